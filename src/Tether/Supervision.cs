namespace Tether;

/// <summary>What happens to a target after one of its handlers throws. The sender of a request always gets an error first.</summary>
public enum Supervision
{
    /// <summary>Keep the target and its state; go on with the next message. The default.</summary>
    Resume = 0,

    /// <summary>Replace the target's instance with a fresh one from its creation function, keeping its address and mailbox.</summary>
    Restart = 1,

    /// <summary>End the target (and the instances tethered to it).</summary>
    Stop = 2,
}
