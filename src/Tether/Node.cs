using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Tether.Internal;

namespace Tether;

/// <summary>
/// One process hosting targets: the embedded runtime. Create one with <see cref="Create(NodeOptions?)"/>,
/// spawn targets, talk to them from outside with <see cref="Send{T}(Address, T, string?)"/> and <see cref="Request{TResponse}(Address, IRequest{TResponse}, TimeSpan?, string?)"/>,
/// and stop it with <see cref="StopAsync(TimeSpan?)"/> or <see cref="DisposeAsync"/>.
/// </summary>
public sealed partial class Node : IAsyncDisposable
{
    private readonly ConcurrentDictionary<long, TargetCell> _cells = new();
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Meter _meter;
    private readonly Counter<long> _sent;
    private readonly Counter<long> _handled;
    private readonly Counter<long> _droppedCounter;
    private readonly Counter<long> _refusedCounter;
    private readonly Counter<long> _deadLetterCounter;
    private long _nextId;
    private long _dropped;
    private long _deadLetters;
    private long _failures;
    private int _stopping;

    private Node(NodeOptions options)
    {
        Options = options;
        Name = options.Name ?? $"node-{Guid.NewGuid():N}"[..13];
        Contracts = options.Contracts ?? new ContractRegistry();
        TimeProvider = options.TimeProvider;
        Throughput = options.Throughput;
        Logger = options.LoggerFactory.CreateLogger("Tether.Node");
        Deadlines = new DeadlineSweeper(TimeProvider, options.DeadlineSweepInterval);
        Topics = new TopicRegistry(this);
        _meter = new Meter(new MeterOptions(Telemetry.ActivitySourceName) { Version = "1.0", Tags = [new("tether.node", Name)] });
        _sent = _meter.CreateCounter<long>("tether.messages.sent", "{message}", "Messages sent (sends, requests, events).");
        _handled = _meter.CreateCounter<long>("tether.messages.handled", "{message}", "Messages handed to an input channel.");
        _droppedCounter = _meter.CreateCounter<long>("tether.messages.dropped", "{message}", "Sends and events dropped at a full mailbox.");
        _deadLetterCounter = _meter.CreateCounter<long>("tether.messages.dead_letters", "{message}", "Messages that found no target or no input channel.");
        _violationCounter = _meter.CreateCounter<long>("tether.messages.contract_violations", "{message}", "Messages an adapter's precondition stopped at a mailbox.");
        _refusedCounter = _meter.CreateCounter<long>("tether.messages.session_refused", "{message}", "Messages a protected input channel refused.");
        _meter.CreateObservableGauge("tether.targets", () => _cells.Count, "{target}", "Live targets.");
        _meter.CreateObservableGauge("tether.mailbox.depth", MailboxDepth, "{message}", "User messages waiting in all mailboxes.");
        Log.NodeStarted(Logger, Name);
    }

    /// <summary>The name of the runtime's <see cref="System.Diagnostics.ActivitySource"/> and <see cref="Meter"/>s, for OpenTelemetry's AddSource and AddMeter.</summary>
    public const string TelemetryName = Telemetry.ActivitySourceName;

    /// <summary>The node's name: the first part of every address it hosts.</summary>
    public string Name { get; }

    /// <summary>The options the node was created with.</summary>
    public NodeOptions Options { get; }

    /// <summary>
    /// The node's message contracts (<see cref="NodeOptions.Contracts"/>, or a registry of its own): register each
    /// message type that crosses the wire here once; the broker proxy and the adapters read it.
    /// </summary>
    public ContractRegistry Contracts { get; }

    /// <summary>A snapshot of the node's counters.</summary>
    public NodeStatistics Statistics => new(
        _cells.Count,
        Interlocked.Read(ref _dropped),
        Interlocked.Read(ref _deadLetters),
        Interlocked.Read(ref _failures),
        Deadlines.Count,
        MailboxDepth(),
        ContractViolations,
        SessionRefusals);

    internal TimeProvider TimeProvider { get; }

    internal int Throughput { get; }

    internal ILogger Logger { get; }

    internal DeadlineSweeper Deadlines { get; }

    internal TopicRegistry Topics { get; }

    /// <summary>The transport to other nodes, once one is attached (<see cref="RemoteTransport.Attach"/>); null for an embedded node.</summary>
    internal RemoteTransport? RemoteSlot;

    /// <summary>The transport to other nodes, or null.</summary>
    internal RemoteTransport? Remote => RemoteSlot;

    /// <summary>Creates and starts a node.</summary>
    /// <exception cref="ArgumentException">An option is out of range; the message names it.</exception>
    public static Node Create(NodeOptions? options = null)
    {
        options ??= NodeOptions.Default;
        options.Validate();
        return new Node(options);
    }

    /// <summary>
    /// Spawns a target with no owner. <paramref name="create"/> must return a new instance each call; it is called
    /// again for a fresh instance when supervision restarts the target.
    /// </summary>
    public Address Spawn<T>(Func<T> create, SpawnOptions? options = null)
        where T : Target, ITarget<T>
        => SpawnCell(create, options ?? SpawnOptions.Default, owner: null).Address;

    /// <summary>Ends a target from outside any target (honoured whoever owns it).</summary>
    public void End(Address target) => End(default, target, "ended by the node");

    /// <summary>
    /// Ends a target from outside any target and completes when it has ended (its <see cref="Target.OnEnded"/> has run and
    /// its tethered local instances were told). Completes at once for an address with no live target. For a target on
    /// another node it completes when that node reports the end, or when the node is lost or stops (it does not fail:
    /// the target is gone either way); the caller's own deadline bounds it otherwise.
    /// </summary>
    public Task EndAsync(Address target)
    {
        if (FindLocal(target) is not { } cell)
        {
            if (IsRemote(target) && Remote is { } remote)
            {
                Task remoteEnd = Watches.WhenEnded(target, remote); // registered before the end is sent: it cannot be missed
                remote.End(default, target, "ended by the node", ownerEnded: false);
                return remoteEnd;
            }

            return Task.CompletedTask;
        }

        var ended = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        cell.PostSystem(new EndWatch(null, ended));
        cell.PostSystem(new EndSignal("ended by the node", default));
        return ended.Task;
    }

    /// <summary>Ends every target, fails every pending request with <see cref="ErrorCodes.NodeStopping"/>, and stops the node's timers.</summary>
    /// <param name="timeout">How long to wait for targets to end (default 10 s).</param>
    public async Task StopAsync(TimeSpan? timeout = null)
    {
        if (Interlocked.Exchange(ref _stopping, 1) == 1)
        {
            await _drained.Task.ConfigureAwait(false);
            return;
        }

        int count = _cells.Count;
        foreach (TargetCell cell in _cells.Values)
        {
            cell.PostSystem(new EndSignal("node stopping", default, Trusted: true));
        }

        if (_cells.IsEmpty)
        {
            _drained.TrySetResult();
        }

        try
        {
            await _drained.Task.WaitAsync(timeout ?? TimeSpan.FromSeconds(10), TimeProvider).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // Targets whose turns never ended are left behind; everything waiting on them fails below.
        }

        Deadlines.FailAll(new TetherException(ErrorCodes.NodeStopping, $"Node {Name} stopped before the request ended."));
        Deadlines.Dispose();
        _meter.Dispose();
        Log.NodeStopped(Logger, Name, count);
        _drained.TrySetResult();
    }

    /// <summary>Same as <see cref="StopAsync(TimeSpan?)"/> with the default timeout.</summary>
    public async ValueTask DisposeAsync() => await StopAsync().ConfigureAwait(false);

    /// <summary>Makes the next local id at least <paramref name="firstId"/>; ids already given out stay.</summary>
    internal void StartLocalIdsAt(long firstId)
    {
        long current = Volatile.Read(ref _nextId);
        while (current < firstId - 1)
        {
            long seen = Interlocked.CompareExchange(ref _nextId, firstId - 1, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }

    internal TargetCell SpawnCell<T>(Func<T> create, SpawnOptions options, TargetCell? owner)
        where T : Target, ITarget<T>
        => SpawnCell(create, options, owner, owner?.Address ?? default, options.Tether, onOwnerTurn: true);

    internal TargetCell SpawnCell<T>(Func<T> create, SpawnOptions options, TargetCell? ownerCell, Address owner, TetherPolicy tether, bool onOwnerTurn)
        where T : Target, ITarget<T>
    {
        ArgumentNullException.ThrowIfNull(create);
        ArgumentNullException.ThrowIfNull(options);
        if (Volatile.Read(ref _stopping) != 0)
        {
            throw new TetherException(ErrorCodes.NodeStopping, $"Node {Name} is stopping; it spawns no more targets.");
        }

        int capacity = options.MailboxCapacity ?? Options.DefaultMailboxCapacity;
        if (capacity < 1)
        {
            throw new ArgumentException($"SpawnOptions.MailboxCapacity must be at least 1; it is {capacity}.", nameof(options));
        }

        DispatchTable table = DispatchTable<T>.Table;
        PipeCache? pipes = PipesFor(typeof(T), table);
        T target = create() ?? throw new InvalidOperationException($"The creation function for {typeof(T).Name} returned null.");
        if (target.Cell is not null)
        {
            throw new InvalidOperationException($"This {typeof(T).Name} instance is already spawned; the creation function must return a new instance each call.");
        }

        var cell = new TargetCell(this, Interlocked.Increment(ref _nextId), target, table, create, capacity, options.Supervision, pipes);
        target.Cell = cell;
        if (!owner.IsNone)
        {
            cell.Tether(owner, ownerCell, tether);
        }

        _cells[cell.Id] = cell;
        try
        {
            target.OnStarted(new Context(cell, default));
        }
        catch (Exception ex)
        {
            cell.EndNow($"OnStarted threw {ex.GetType().Name}");
            cell.Open();
            throw new TetherException(ErrorCodes.HandlerFailed, $"Spawning {typeof(T).Name} failed: OnStarted threw {ex.GetType().Name}: {ex.Message}", ex);
        }

        if (ownerCell is not null)
        {
            if (onOwnerTurn)
            {
                ownerCell.AddChild(cell);
            }
            else
            {
                ownerCell.PostSystem(new ChildAdded(cell));
            }
        }

        cell.Open();
        return cell;
    }

    internal TargetCell? FindLocal(Address address)
    {
        if (address.Cell is { } cell)
        {
            return cell.IsAlive && IsOwnName(address.Node) ? cell : null; // another node's target in this process is not local
        }

        if (address.IsNone || !string.Equals(address.Node, Name, StringComparison.Ordinal))
        {
            return null;
        }

        return _cells.GetValueOrDefault(address.Id);
    }

    internal void Unregister(TargetCell cell)
    {
        _cells.TryRemove(cell.Id, out _);
        if (Volatile.Read(ref _stopping) != 0 && _cells.IsEmpty)
        {
            _drained.TrySetResult();
        }
    }

    internal void End(Address requestedBy, Address target, string reason)
    {
        if (FindLocal(target) is { } cell)
        {
            cell.PostSystem(new EndSignal(reason, requestedBy));
        }
        else if (IsRemote(target) && Remote is { } remote)
        {
            remote.End(requestedBy, target, reason, ownerEnded: false);
        }
    }

    internal void Renew(Address requestedBy, Address instance)
    {
        if (FindLocal(instance) is { } cell)
        {
            if (cell.Owner == requestedBy)
            {
                cell.PostSystem(LeaseRenewal.Instance);
            }
        }
        else if (IsRemote(instance) && Remote is { } remote)
        {
            remote.Renew(requestedBy, instance);
        }
    }

    /// <summary>The owner <paramref name="owner"/> (on another node) ended: end its instance here if the tether says so.</summary>
    internal void RemoteOwnerEnded(Address owner, Address instance)
    {
        if (FindLocal(instance) is { } cell && cell.Owner == owner && cell.TetherPolicy is { EndWhenOwnerEnds: true })
        {
            cell.PostSystem(new EndSignal("owner ended", owner, Trusted: true));
        }
    }

    /// <summary>Whether <paramref name="node"/> is this node's name (by reference first: an address made here carries the very string).</summary>
    internal bool IsOwnName(string? node) => ReferenceEquals(node, Name) || string.Equals(node, Name, StringComparison.Ordinal);

    internal bool IsRemote(Address address)
        => Remote is not null && !address.IsNone && !string.Equals(address.Node, Name, StringComparison.Ordinal);

    /// <summary>
    /// A peer node was declared unreachable: every local instance whose owner lives there and whose tether says so ends,
    /// and every watch of a target there fires ("node X is unreachable").
    /// </summary>
    internal int OwnerNodeLost(string node)
    {
        int ended = 0;
        foreach (TargetCell cell in _cells.Values)
        {
            if (string.Equals(cell.Owner.Node, node, StringComparison.Ordinal) && cell.TetherPolicy is { EndWhenOwnerNodeUnreachable: true })
            {
                cell.PostSystem(new EndSignal($"owner's node {node} is unreachable", default, Trusted: true));
                ended++;
            }
        }

        Volatile.Read(ref _watches)?.NodeLost(node, $"node {node} is unreachable");
        return ended;
    }

    internal void CountHandled()
    {
        if (_handled.Enabled)
        {
            _handled.Add(1);
        }
    }

    internal void CountFailure() => Interlocked.Increment(ref _failures);

    private long MailboxDepth()
    {
        long depth = 0;
        foreach (TargetCell cell in _cells.Values)
        {
            depth += cell.Depth;
        }

        return depth;
    }
}
