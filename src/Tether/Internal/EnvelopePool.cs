namespace Tether.Internal;

/// <summary>
/// Recycles envelopes: a free list per thread (no synchronisation on the hot path), with whole lists exchanged
/// through a small shared depot when one thread mostly sends and another mostly handles. Bounded: beyond
/// <see cref="DepotLists"/> full lists, returned envelopes are left to the collector.
/// </summary>
internal static class EnvelopePool
{
    private const int ListSize = 256;
    private const int DepotLists = 64;

    [ThreadStatic]
    private static FreeList? t_list; // one thread-local access per operation; the list itself is a plain object

    private static readonly Lock DepotLock = new();
    private static readonly Envelope?[] Depot = new Envelope?[DepotLists];
    private static int s_depotCount;

    public static Envelope Rent(Category category, Address sender, object payload, ReplySink? reply)
    {
        FreeList list = t_list ??= new FreeList();
        Envelope? envelope = list.Head ?? TakeList(list);
        if (envelope is null)
        {
            return new Envelope(category, sender, payload, reply);
        }

        list.Head = envelope.Next;
        list.Count--;
        envelope.Next = null;
        envelope.Category = category;
        envelope.Sender = sender;
        envelope.Payload = payload;
        envelope.Reply = reply;
        return envelope;
    }

    /// <summary>This thread's free list, for a caller that returns many envelopes in a row (one thread-local lookup).</summary>
    public static FreeList Local => t_list ??= new FreeList();

    public static void Return(Envelope envelope) => Return(Local, envelope);

    /// <summary>Returns an envelope to <paramref name="list"/>, which must be <see cref="Local"/> of the calling thread.</summary>
    public static void Return(FreeList list, Envelope envelope)
    {
        envelope.Clear();
        if (list.Count >= ListSize)
        {
            GiveList(list);
        }

        envelope.Next = list.Head;
        list.Head = envelope;
        list.Count++;
    }

    private static Envelope? TakeList(FreeList free)
    {
        if (Volatile.Read(ref s_depotCount) == 0)
        {
            return null;
        }

        Envelope? list;
        lock (DepotLock)
        {
            if (s_depotCount == 0)
            {
                return null;
            }

            list = Depot[--s_depotCount];
            Depot[s_depotCount] = null;
        }

        free.Head = list;
        free.Count = ListSize;
        return list;
    }

    private static void GiveList(FreeList free)
    {
        Envelope? list = free.Head;
        free.Head = null;
        free.Count = 0;
        if (Volatile.Read(ref s_depotCount) >= DepotLists)
        {
            return; // enough spares: these go to the collector
        }

        lock (DepotLock)
        {
            if (s_depotCount < DepotLists)
            {
                Depot[s_depotCount++] = list;
            }
        }
    }

    internal sealed class FreeList
    {
        public Envelope? Head;
        public int Count;
    }
}
