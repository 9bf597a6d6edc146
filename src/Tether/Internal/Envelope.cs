using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace Tether.Internal;

internal enum Category : byte
{
    Send,
    Request,
    Event,
    System,
}

/// <summary>
/// What travels between targets. Inside one process the payload passes by reference, never copied.
/// <see cref="Next"/> links envelopes inside a mailbox, so queuing allocates nothing beyond the envelope.
/// </summary>
internal sealed class Envelope
{
    public Envelope? Next;
    public Address Sender;
    public object Payload;
    public ReplySink? Reply;
    public Category Category;
    private StrongBox<ActivityContext>? _trace; // boxed: most messages carry no trace, and an inline context is 40 bytes

    public ActivityContext Trace
    {
        get => _trace?.Value ?? default;
        set => _trace = value.TraceId == default ? null : new StrongBox<ActivityContext>(value);
    }

    public bool HasTrace => _trace is not null;

    public Envelope(Category category, Address sender, object payload, ReplySink? reply)
    {
        Category = category;
        Sender = sender;
        Payload = payload;
        Reply = reply;
    }

    public bool IsUser => Category != Category.System;
}
