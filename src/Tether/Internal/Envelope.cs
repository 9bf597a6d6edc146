using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace Tether.Internal;

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
    public object Payload;
    public ReplySink? Reply;
    public Category Category;

    /// <summary>Kept by a suspended async handler: the mailbox must not recycle it; the handler's completion does.</summary>
    public bool Held;

    /// <summary>The session token the message travels with (like the trace context), or null.</summary>
    public string? Session;

    // The sender: an address (from another node, from outside any target), or a local target's cell alone, kept in the
    // address's hidden cell with no node (one reference to write; the address is built when read). Not a field of its
    // own: an envelope is allocated for every message a node receives from the wire, and a separate cell field made it
    // 96 bytes instead of 88 (remote blast: 8 B more per message).
    private Address _sender;
    private StrongBox<ActivityContext>? _trace; // boxed: most messages carry no trace, and an inline context is 40 bytes

    public Envelope(Category category, Address sender, object payload, ReplySink? reply)
    {
        Category = category;
        _sender = sender;
        Payload = payload;
        Reply = reply;
    }

    public ActivityContext Trace
    {
        get => _trace?.Value ?? default;
        set => _trace = value.TraceId == default ? null : new StrongBox<ActivityContext>(value);
    }

    public bool HasTrace => _trace is not null;

    /// <summary>Who sent it (<see cref="Address.None"/> from outside any target).</summary>
    public Address Sender => _sender.Node is null && _sender.Cell is { } cell ? cell.Address : _sender;

    /// <summary>Sets the sender to <paramref name="sender"/>'s address (and clears a sender cell).</summary>
    public void SetSender(Address sender) => _sender = sender;

    /// <summary>Sets the sender to the local target of <paramref name="cell"/>, without copying its address.</summary>
    public void SetSender(TargetCell cell) => _sender = new Address(null!, 0, cell); // node and id: constants, no write barrier

    public bool IsUser => Category != Category.System;

    /// <summary>Drops every reference so a pooled envelope keeps no payload, sink or trace alive.</summary>
    internal void Clear()
    {
        Next = null;
        _sender = default;
        Payload = null!;
        Reply = null;
        Held = false;
        Session = null;
        _trace = null;
    }
}
