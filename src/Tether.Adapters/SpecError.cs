namespace Tether.Adapters;

/// <summary>One error in a contract spec.</summary>
/// <param name="Location">Where it is; null when it has no place in a file (a contract built in C#).</param>
/// <param name="Message">What is wrong and how to fix it.</param>
public sealed record SpecError(SpecLocation? Location, string Message)
{
    /// <summary><c>file:line:col: message</c>, or the message alone when there is no location.</summary>
    public override string ToString() => Location is { } at ? $"{at}: {Message}" : Message;
}
