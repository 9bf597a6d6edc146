namespace Tether.Adapters.Internal;

/// <summary>Reads a field path from a message: false when it or any step on the way is null (the field is missing).</summary>
internal delegate bool PathGetter<T>(object message, out T value);
