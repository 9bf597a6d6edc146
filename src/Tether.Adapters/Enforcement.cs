namespace Tether.Adapters;

/// <summary>Where a contract's rules are enforced.</summary>
[Flags]
public enum Enforcement
{
    /// <summary>Before an input channel (preconditions): a violating message never reaches the handler. The default.</summary>
    Input = 1,

    /// <summary>After an output channel (postconditions): a violating message is not sent; the sender gets the error.</summary>
    Output = 2,

    /// <summary>Both ways.</summary>
    Both = Input | Output,
}
