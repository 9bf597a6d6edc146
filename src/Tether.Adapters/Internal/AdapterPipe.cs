namespace Tether.Adapters.Internal;

/// <summary>The pipe the mailbox runs: stages in order, built once per (target type, message type).</summary>
internal sealed class AdapterPipe(Stage[] stages) : MessagePipe
{
    public IReadOnlyList<Stage> Stages => stages;

    public override object Apply(object message)
    {
        foreach (Stage stage in stages)
        {
            message = stage.Apply(message);
        }

        return message;
    }

    public override string ToString() => string.Join(" → ", stages.Select(s => s.Describe()));
}
