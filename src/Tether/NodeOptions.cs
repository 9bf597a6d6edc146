using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Tether;

/// <summary>The settings of a <see cref="Node"/>. Every value is checked by <see cref="Node.Create(NodeOptions?)"/>.</summary>
public sealed record NodeOptions
{
    /// <summary>The defaults.</summary>
    public static NodeOptions Default { get; } = new();

    /// <summary>The node's name, part of every address it hosts. Null picks a unique name.</summary>
    public string? Name { get; init; }

    /// <summary>The deadline of a request that names none. Finite by design.</summary>
    public TimeSpan DefaultRequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The mailbox capacity of a target whose <see cref="SpawnOptions"/> name none.</summary>
    public int DefaultMailboxCapacity { get; init; } = 10_000;

    /// <summary>How many messages a target handles in one go before it yields its thread to others.</summary>
    public int Throughput { get; init; } = 300;

    /// <summary>How often overdue requests are looked for; a request fails at most this long after its deadline.</summary>
    public TimeSpan DeadlineSweepInterval { get; init; } = TimeSpan.FromMilliseconds(20);

    /// <summary>The clock for deadlines, leases and timers.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Where the node logs.</summary>
    public ILoggerFactory LoggerFactory { get; init; } = NullLoggerFactory.Instance;

    /// <summary>
    /// The message contracts of this node: the name each message type travels under between nodes and is known by in
    /// adapter specs. Registered once here; the broker proxy and the adapters read the same registry. Null (the
    /// default): the node makes a registry of its own (<see cref="Node.Contracts"/>).
    /// </summary>
    public ContractRegistry? Contracts { get; init; }

    /// <summary>
    /// The declarative adapters (message contracts) the mailboxes apply: preconditions before input channels,
    /// postconditions after output channels. Null (the default) means none, at the cost of one null check per message.
    /// </summary>
    public IMessageAdapters? Adapters { get; init; }

    /// <summary>
    /// Verifies the session tokens of messages for protected input channels (<see cref="Channels{TSelf}.Requires"/>).
    /// Null (the default): a protected channel refuses every message with <see cref="ErrorCodes.Unauthenticated"/>.
    /// </summary>
    public ISessionVerifier? Sessions { get; init; }

    internal void Validate()
    {
        if (Name is not null && (Name.Length == 0 || Name.Contains('/', StringComparison.Ordinal) || Name.Any(char.IsWhiteSpace)))
        {
            throw new ArgumentException($"NodeOptions.Name \"{Name}\" is not valid: it must be non-empty, without '/' or spaces.");
        }

        if (DefaultRequestTimeout <= TimeSpan.Zero || DefaultRequestTimeout == Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentException($"NodeOptions.DefaultRequestTimeout must be finite and positive; it is {DefaultRequestTimeout}.");
        }

        if (DefaultMailboxCapacity < 1)
        {
            throw new ArgumentException($"NodeOptions.DefaultMailboxCapacity must be at least 1; it is {DefaultMailboxCapacity}.");
        }

        if (Throughput < 1)
        {
            throw new ArgumentException($"NodeOptions.Throughput must be at least 1; it is {Throughput}.");
        }

        if (DeadlineSweepInterval <= TimeSpan.Zero)
        {
            throw new ArgumentException($"NodeOptions.DeadlineSweepInterval must be positive; it is {DeadlineSweepInterval}.");
        }

        ArgumentNullException.ThrowIfNull(TimeProvider, "NodeOptions.TimeProvider");
        ArgumentNullException.ThrowIfNull(LoggerFactory, "NodeOptions.LoggerFactory");
    }
}
