namespace Tether;

/// <summary>What a running <see cref="Job"/> can do: submit follow-up jobs, see cancellation, and talk to other targets.</summary>
public sealed class JobContext
{
    private readonly Address _engine;

    internal JobContext(Context target, Address engine, CancellationToken cancellation)
    {
        Target = target;
        _engine = engine;
        Cancellation = cancellation;
    }

    /// <summary>The context of the job's own target: send, request and publish from here.</summary>
    public Context Target { get; }

    /// <summary>Signalled when the engine is cancelled.</summary>
    public CancellationToken Cancellation { get; }

    /// <summary>Submits a follow-up job. It is counted before this job's own completion, so the engine never finishes early.</summary>
    public void Submit(Job job)
    {
        ArgumentNullException.ThrowIfNull(job);
        Target.Send(_engine, new Internal.SubmitJob(job));
    }
}
