using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace Tether.Internal;

/// <summary>An envelope's category. The first three are <see cref="MessageKind"/>'s values: a transport's kind is a cast, no mapping.</summary>
internal enum Category : byte
{
    Send = MessageKind.Send,
    Request = MessageKind.Request,
    Event = MessageKind.Event,
    System,
}

/// <summary>
/// What travels between targets. Inside one process the payload passes by reference, never copied.
/// <see cref="Next"/> links envelopes inside a mailbox, so queuing allocates nothing beyond the envelope, and
/// envelopes are recycled through <see cref="EnvelopePool"/> once handled, so the steady-state send path allocates nothing.
/// </summary>
/// <remarks>
/// An envelope must not be referenced after it is returned: handlers see its fields (through <see cref="Context"/>,
/// which copies the sender), never the envelope itself; an async handler that is still running holds it
/// (<see cref="Held"/>) until it completes.
/// </remarks>
internal sealed class Envelope
{
    public Envelope? Next;
    public Address Sender;
    public object Payload;
    public ReplySink? Reply;
    public Category Category;

    /// <summary>Kept by a suspended async handler: the mailbox must not recycle it; the handler's completion does.</summary>
    public bool Held;

    /// <summary>The session token the message travels with (like the trace context), or null.</summary>
    public string? Session;
    private StrongBox<ActivityContext>? _trace; // boxed: most messages carry no trace, and an inline context is 40 bytes

    public Envelope(Category category, Address sender, object payload, ReplySink? reply)
    {
        Category = category;
        Sender = sender;
        Payload = payload;
        Reply = reply;
    }

    public ActivityContext Trace
    {
        get => _trace?.Value ?? default;
        set => _trace = value.TraceId == default ? null : new StrongBox<ActivityContext>(value);
    }

    public bool HasTrace => _trace is not null;

    public bool IsUser => Category != Category.System;

    /// <summary>Drops every reference so a pooled envelope keeps no payload, sink or trace alive.</summary>
    internal void Clear()
    {
        Sender = default;
        Payload = null!;
        Reply = null;
        Held = false;
        Session = null;
        _trace = null;
    }
}

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
