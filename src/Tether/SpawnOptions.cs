namespace Tether;

/// <summary>How a target is created: its mailbox capacity, its supervision and its tether to its owner.</summary>
public sealed record SpawnOptions
{
    /// <summary>The defaults: the node's mailbox capacity, <see cref="Supervision.Resume"/>, <see cref="TetherPolicy.WithOwner"/>.</summary>
    public static SpawnOptions Default { get; } = new();

    /// <summary>The most user messages (sends, requests, events) the mailbox holds; null takes the node's default.</summary>
    /// <remarks>When full, a request is rejected with <see cref="ErrorCodes.MailboxFull"/> and a send or event is dropped and counted.</remarks>
    public int? MailboxCapacity { get; init; }

    /// <summary>What happens after a handler throws.</summary>
    public Supervision Supervision { get; init; } = Supervision.Resume;

    /// <summary>When the target ends because its owner did (ignored for targets that have no owner).</summary>
    public TetherPolicy Tether { get; init; } = TetherPolicy.WithOwner;
}
