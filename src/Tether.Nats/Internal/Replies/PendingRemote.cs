using System.Diagnostics;

namespace Tether.Nats.Internal;

/// <summary>A request that left this node: where it went, and when, so the answer can be matched and timed.</summary>
internal sealed class PendingRemote(Tether.Transport.ReplySink sink, string destination, string? service, Address instance, bool isCreate = false)
{
    public Tether.Transport.ReplySink Sink { get; } = sink;

    private string _destination = destination;

    /// <summary>
    /// "node X" once the node that has it is known: at once for a request to an address or a known instance, on the
    /// taker's <c>Accepted</c> frame for one sent through a queue group ("service X" until then).
    /// </summary>
    public string Destination
    {
        get => Volatile.Read(ref _destination);
        set => Volatile.Write(ref _destination, value);
    }

    /// <summary>
    /// How many node-to-node passes the request (or its reply token) made to reach <see cref="Destination"/>: 1 when sent to
    /// a known node, 0 while only a queue group has it. An <c>Accepted</c> notice of a lower or equal hop is stale.
    /// </summary>
    public int Hop { get; set; } = service is null || instance != default ? 1 : 0;

    /// <summary>The service the request was routed for, if any.</summary>
    public string? Service { get; } = service;

    /// <summary>The chosen instance; none when it went through the queue group.</summary>
    public Address Instance { get; } = instance;

    /// <summary>When it left; taken only for a request routed to a service (the router's latency figure needs it; a clock read costs).</summary>
    public long Start { get; } = service is null ? 0 : Stopwatch.GetTimestamp();

    /// <summary>A remote create: an answer that arrives after the creator gave up is an orphan to end.</summary>
    public bool IsCreate { get; } = isCreate;

    /// <summary>
    /// The batch it left in (0: alone): the server's "no responders" or a receiver's rejection of a whole batch comes
    /// back on the batch's reply subject, and fails every request of that batch.
    /// </summary>
    public long Batch { get; set; }
}
