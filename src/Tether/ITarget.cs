namespace Tether;

/// <summary>
/// Implemented by every concrete target type: wires its input channels once per type.
/// </summary>
/// <typeparam name="TSelf">The target type itself.</typeparam>
/// <example>
/// <code>
/// public sealed class Counter : Target, ITarget&lt;Counter&gt;
/// {
///     private int _count;
///     public static void Wire(Channels&lt;Counter&gt; channels) => channels
///         .On&lt;Add&gt;(static (self, m, ctx) => self._count += m.Amount)
///         .Request&lt;GetCount, int&gt;(static (self, m, ctx) => self._count);
/// }
/// </code>
/// </example>
public interface ITarget<TSelf>
    where TSelf : Target, ITarget<TSelf>
{
    /// <summary>
    /// Declares the target type's input channels: one handler per message type. Called once per type,
    /// the first time a target of the type is spawned; the result is cached for the life of the process.
    /// </summary>
    static abstract void Wire(Channels<TSelf> channels);
}
