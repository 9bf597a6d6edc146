using System.Diagnostics.CodeAnalysis;

namespace Tether.Nats.Internal;

/// <summary>
/// The requests this node awaits answers for, by correlation. Callers add on their threads while the socket reader
/// removes, so the table is split into stripes, each a plain dictionary under its own lock: consecutive correlations fall
/// into different stripes, and an entry costs no allocation (a concurrent dictionary allocates a node per entry).
/// </summary>
/// <remarks>Enumerating takes a snapshot, stripe by stripe: entries added or removed meanwhile may or may not be in it.</remarks>
internal sealed class PendingTable : IEnumerable<KeyValuePair<long, PendingRemote>>
{
    private const int Stripes = 64; // a power of two
    private readonly Dictionary<long, PendingRemote>[] _stripes = new Dictionary<long, PendingRemote>[Stripes];

    public PendingTable()
    {
        for (int i = 0; i < Stripes; i++)
        {
            _stripes[i] = new Dictionary<long, PendingRemote>(32);
        }
    }

    /// <summary>How many requests are pending (a moment's count).</summary>
    public int Count
    {
        get
        {
            int count = 0;
            foreach (Dictionary<long, PendingRemote> stripe in _stripes)
            {
                lock (stripe)
                {
                    count += stripe.Count;
                }
            }

            return count;
        }
    }

    /// <summary>The pending requests (a snapshot).</summary>
    public IEnumerable<PendingRemote> Values => this.Select(e => e.Value);

    public PendingRemote this[long correlation]
    {
        set
        {
            Dictionary<long, PendingRemote> stripe = StripeOf(correlation);
            lock (stripe)
            {
                stripe[correlation] = value;
            }
        }
    }

    public bool TryRemove(long correlation, [MaybeNullWhen(false)] out PendingRemote pending)
    {
        Dictionary<long, PendingRemote> stripe = StripeOf(correlation);
        lock (stripe)
        {
            return stripe.Remove(correlation, out pending);
        }
    }

    public bool TryGetValue(long correlation, [MaybeNullWhen(false)] out PendingRemote pending)
    {
        Dictionary<long, PendingRemote> stripe = StripeOf(correlation);
        lock (stripe)
        {
            return stripe.TryGetValue(correlation, out pending);
        }
    }

    public IEnumerator<KeyValuePair<long, PendingRemote>> GetEnumerator()
    {
        var snapshot = new List<KeyValuePair<long, PendingRemote>>();
        foreach (Dictionary<long, PendingRemote> stripe in _stripes)
        {
            lock (stripe)
            {
                snapshot.AddRange(stripe);
            }
        }

        return snapshot.GetEnumerator();
    }

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

    private Dictionary<long, PendingRemote> StripeOf(long correlation) => _stripes[(int)((ulong)correlation & (Stripes - 1))];
}
