namespace Tether.Internal;

/// <summary>The rest of an async handler after an await: one turn.</summary>
internal sealed record Continuation(SendOrPostCallback Callback, object? State);
