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
