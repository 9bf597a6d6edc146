namespace Tether.Internal;

/// <summary>
/// Recycles envelopes: a free list per thread (no synchronisation on the hot path), with whole lists exchanged
/// through a small shared depot when one thread mostly sends and another mostly handles. Bounded: beyond
/// <see cref="DepotLists"/> full lists, returned envelopes are left to the collector.
/// </summary>
/// <remarks>
/// A free list is an array and a count, not a chain through <see cref="Envelope.Next"/>: a return then writes one
/// reference (the slot) and a rent none that the collector must see (it clears the slot), where a chain wrote three
/// (the returned envelope's link, the list's head twice), each through a GC write barrier. The depot keeps the arrays
/// it took (empty ones for a thread whose list filled), so exchanging lists allocates nothing once warm.
/// </remarks>
internal static class EnvelopePool
{
    private const int ListSize = 256;
    private const int DepotLists = 64;

    [ThreadStatic]
    private static FreeList? t_list; // one thread-local access per operation; the list itself is a plain object

    private static readonly Lock DepotLock = new();
    private static readonly Envelope?[]?[] FullLists = new Envelope?[]?[DepotLists];
    private static readonly Envelope?[]?[] EmptyLists = new Envelope?[]?[DepotLists];
    private static int s_fullCount;
    private static int s_emptyCount;

    public static Envelope Rent(Category category, Address sender, object payload, ReplySink? reply)
    {
        FreeList list = t_list ??= new FreeList();
        if (list.Count == 0 && !TakeList(list))
        {
            return new Envelope(category, sender, payload, reply);
        }

        Envelope envelope = Take(list);
        envelope.Category = category;
        envelope.SetSender(sender);
        envelope.Payload = payload;
        envelope.Reply = reply;
        return envelope;
    }

    /// <summary>
    /// Rents an envelope for a send from the local target of <paramref name="from"/>: the sender is kept as the cell
    /// (one reference written instead of an address's node name, id and cell).
    /// </summary>
    public static Envelope Rent(Category category, TargetCell from, object payload) => Rent(t_list ??= new FreeList(), category, from, payload);

    /// <summary>As <see cref="Rent(Category, TargetCell, object)"/> from <paramref name="list"/>, which must be <see cref="Local"/> of the calling thread.</summary>
    public static Envelope Rent(FreeList list, Category category, TargetCell from, object payload)
    {
        Envelope envelope;
        if (list.Count == 0 && !TakeList(list))
        {
            envelope = new Envelope(category, default, payload, null);
        }
        else
        {
            envelope = Take(list);
            envelope.Category = category;
            envelope.Payload = payload;
        }

        envelope.SetSender(from);
        return envelope;
    }

    /// <summary>This thread's free list, for a caller that returns many envelopes in a row (one thread-local lookup).</summary>
    public static FreeList Local => t_list ??= new FreeList();

    public static void Return(Envelope envelope) => Return(Local, envelope);

    /// <summary>Returns an envelope to <paramref name="list"/>, which must be <see cref="Local"/> of the calling thread.</summary>
    public static void Return(FreeList list, Envelope envelope)
    {
        envelope.Clear();
        if (list.Count == ListSize)
        {
            GiveList(list);
        }

        list.Items[list.Count++] = envelope;
    }

    private static Envelope Take(FreeList list)
    {
        int index = --list.Count;
        Envelope envelope = list.Items[index]!;
        list.Items[index] = null; // a rented envelope is not kept alive by the list (nor, if it is never returned, its payload)
        return envelope;
    }

    /// <summary>Swaps this thread's empty list for a full one from the depot; false when the depot has none.</summary>
    private static bool TakeList(FreeList free)
    {
        if (Volatile.Read(ref s_fullCount) == 0)
        {
            return false;
        }

        lock (DepotLock)
        {
            if (s_fullCount == 0)
            {
                return false;
            }

            Envelope?[] full = FullLists[--s_fullCount]!;
            FullLists[s_fullCount] = null;
            if (s_emptyCount < DepotLists)
            {
                EmptyLists[s_emptyCount++] = free.Items; // empty: every slot was cleared as it was rented
            }

            free.Items = full;
        }

        free.Count = ListSize;
        return true;
    }

    /// <summary>Gives this thread's full list to the depot for an empty one; with enough spares there, drops its envelopes.</summary>
    private static void GiveList(FreeList free)
    {
        lock (DepotLock)
        {
            if (s_fullCount < DepotLists)
            {
                FullLists[s_fullCount++] = free.Items;
                if (s_emptyCount > 0)
                {
                    free.Items = EmptyLists[--s_emptyCount]!;
                    EmptyLists[s_emptyCount] = null;
                }
                else
                {
                    free.Items = new Envelope?[ListSize]; // only until the depot holds as many empty lists as threads trade
                }

                free.Count = 0;
                return;
            }
        }

        Array.Clear(free.Items); // enough spares: these go to the collector
        free.Count = 0;
    }

    internal sealed class FreeList
    {
        public Envelope?[] Items = new Envelope?[ListSize];
        public int Count;
    }
}
