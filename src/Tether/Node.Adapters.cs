using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Text;
using Tether.Internal;

namespace Tether;

public sealed partial class Node
{
    private const int MaxViolationLogKeys = 1024;
    private static readonly TimeSpan s_violationLogInterval = TimeSpan.FromMinutes(1);
    private readonly ConcurrentDictionary<Type, PipeCache> _pipeCaches = new();
    private readonly ConcurrentDictionary<string, ViolationLogState> _violationLog = new(StringComparer.Ordinal);
    private Counter<long> _violationCounter = null!; // created in the constructor, beside the other counters
    private long _contractViolations;

    /// <summary>
    /// The pipe cache of <paramref name="targetType"/> on this node, built at its first spawn; null without adapters.
    /// Building asks the adapters for every input channel's pipe, so an adapter that cannot be built fails the spawn.
    /// </summary>
    internal PipeCache? PipesFor(Type targetType, DispatchTable table)
    {
        IMessageAdapters? adapters = Options.Adapters;
        if (adapters is null)
        {
            return null;
        }

        if (_pipeCaches.TryGetValue(targetType, out PipeCache? cache))
        {
            return cache;
        }

        lock (_pipeCaches)
        {
            if (!_pipeCaches.TryGetValue(targetType, out cache))
            {
                cache = new PipeCache(adapters, targetType, table);
                _pipeCaches[targetType] = cache;
            }

            return cache;
        }
    }

    /// <summary>
    /// An inbound pipe refused a message: the requester gets the error; a send or event is dropped, counted and
    /// logged (once per rule, then at most once a minute per rule with the number left unlogged).
    /// </summary>
    internal void InboundRejected(TargetCell cell, Envelope envelope, TetherException error)
    {
        Interlocked.Increment(ref _contractViolations);
        _violationCounter.Add(1);
        if (envelope.Reply is not null)
        {
            envelope.Reply.TryFail(error);
            return;
        }

        string messageType = envelope.Payload.GetType().Name;
        string key = error is ContractViolationException violation
            ? $"{cell.Table.TargetTypeName}|{violation.MessageType}|{WithoutIndexes(violation.Path)}|{violation.Rule}"
            : $"{cell.Table.TargetTypeName}|{messageType}|{error.Code}";
        if (_violationLog.Count >= MaxViolationLogKeys && !_violationLog.ContainsKey(key))
        {
            key = "*"; // memory stays bounded whatever arrives; past the cap, rules share one budget
        }

        ViolationLogState state = _violationLog.GetOrAdd(key, static _ => new ViolationLogState());
        long now = TimeProvider.GetTimestamp();
        long suppressed;
        lock (state)
        {
            if (state.Logged && now < state.NextLog)
            {
                state.Suppressed++;
                return;
            }

            suppressed = state.Suppressed;
            state.Logged = true;
            state.Suppressed = 0;
            state.NextLog = now + (long)(s_violationLogInterval.TotalSeconds * TimeProvider.TimestampFrequency);
        }

        Log.ContractViolationDropped(Logger, messageType, envelope.Sender, cell.Table.TargetTypeName, cell.Address, error.Message, suppressed);
    }

    internal long ContractViolations => Interlocked.Read(ref _contractViolations);

    private static string WithoutIndexes(string path)
    {
        if (!path.Contains('[', StringComparison.Ordinal))
        {
            return path;
        }

        var text = new StringBuilder(path.Length);
        bool inIndex = false;
        foreach (char c in path)
        {
            if (c == '[')
            {
                inIndex = true;
                text.Append("[]");
            }
            else if (c == ']')
            {
                inIndex = false;
            }
            else if (!inIndex)
            {
                text.Append(c);
            }
        }

        return text.ToString();
    }

    private sealed class ViolationLogState
    {
        public bool Logged;
        public long NextLog;
        public long Suppressed;
    }
}
