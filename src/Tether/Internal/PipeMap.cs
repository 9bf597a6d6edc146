using System.Collections.Concurrent;

namespace Tether.Internal;

/// <summary>
/// Message type → pipe (or none), filled on first sight. Few types: a copy-on-write array scanned by reference;
/// past <see cref="LinearLimit"/> types a concurrent dictionary takes the rest.
/// </summary>
internal sealed class PipeMap(Func<Type, MessagePipe?> resolve)
{
    private const int LinearLimit = 16;
    private Entry[] _entries = [];
    private ConcurrentDictionary<Type, MessagePipe?>? _more;

    public MessagePipe? Get(Type type)
    {
        Entry[] entries = Volatile.Read(ref _entries);
        for (int i = 0; i < entries.Length; i++)
        {
            if (ReferenceEquals(entries[i].Type, type))
            {
                return entries[i].Pipe;
            }
        }

        return Add(type);
    }

    private MessagePipe? Add(Type type)
    {
        if (Volatile.Read(ref _more) is { } more && more.TryGetValue(type, out MessagePipe? known))
        {
            return known;
        }

        MessagePipe? pipe = resolve(type); // outside the lock: building may take a while; a race builds twice, one wins
        lock (this)
        {
            foreach (Entry entry in _entries)
            {
                if (ReferenceEquals(entry.Type, type))
                {
                    return entry.Pipe;
                }
            }

            if (_entries.Length < LinearLimit)
            {
                Volatile.Write(ref _entries, [.. _entries, new Entry(type, pipe)]);
                return pipe;
            }

            more = _more ?? new ConcurrentDictionary<Type, MessagePipe?>();
            Volatile.Write(ref _more, more);
            return more.GetOrAdd(type, pipe);
        }
    }

    private readonly record struct Entry(Type Type, MessagePipe? Pipe);
}
