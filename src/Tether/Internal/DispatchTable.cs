using System.Collections.Frozen;
using System.Runtime.ExceptionServices;

namespace Tether.Internal;

/// <summary>
/// The input channels of one target type, built once per type. A lookup compares type references in a small
/// array (what a generated type switch would do); types with many channels use a frozen map.
/// </summary>
internal sealed class DispatchTable
{
    private const int LinearLimit = 8;
    private readonly Type[] _types;
    private readonly ChannelHandler[] _handlers;
    private readonly FrozenDictionary<Type, ChannelHandler>? _map;
    private readonly FrozenDictionary<Type, int>? _indexes;

    public DispatchTable(string targetTypeName, IReadOnlyList<ChannelHandler> handlers)
    {
        TargetTypeName = targetTypeName;
        _types = handlers.Select(h => h.MessageType).ToArray();
        _handlers = handlers.ToArray();
        if (_handlers.Length > LinearLimit)
        {
            _map = _handlers.ToFrozenDictionary(h => h.MessageType);
            _indexes = Enumerable.Range(0, _types.Length).ToFrozenDictionary(i => _types[i]);
        }
    }

    public string TargetTypeName { get; }

    public ChannelHandler? Find(Type messageType)
    {
        if (_map is not null)
        {
            return _map.GetValueOrDefault(messageType);
        }

        Type[] types = _types;
        for (int i = 0; i < types.Length; i++)
        {
            if (ReferenceEquals(types[i], messageType))
            {
                return _handlers[i];
            }
        }

        return null;
    }

    public bool Handles(Type messageType) => Find(messageType) is not null;

    /// <summary>The message types with an input channel, in wiring order; index i is <see cref="At"/>(i)'s type.</summary>
    public IReadOnlyList<Type> MessageTypes => _types;

    /// <summary>The position of <paramref name="messageType"/>'s channel, or -1. Used only when adapters are configured.</summary>
    public int IndexOf(Type messageType)
    {
        if (_indexes is not null)
        {
            return _indexes.TryGetValue(messageType, out int index) ? index : -1;
        }

        Type[] types = _types;
        for (int i = 0; i < types.Length; i++)
        {
            if (ReferenceEquals(types[i], messageType))
            {
                return i;
            }
        }

        return -1;
    }

    public ChannelHandler At(int index) => _handlers[index];
}

/// <summary>The dispatch table of <typeparamref name="TSelf"/>, built on first use; a wiring error is kept and rethrown at every spawn.</summary>
internal static class DispatchTable<TSelf>
    where TSelf : Target, ITarget<TSelf>
{
    private static readonly DispatchTable? s_table;
    private static readonly ExceptionDispatchInfo? s_error;

    static DispatchTable()
    {
        try
        {
            var channels = new Channels<TSelf>();
            TSelf.Wire(channels);
            s_table = new DispatchTable(typeof(TSelf).Name, channels.Handlers);
        }
#pragma warning disable CA1031 // the error is stored and rethrown at each spawn instead of poisoning the type
        catch (Exception ex)
#pragma warning restore CA1031
        {
            s_error = ExceptionDispatchInfo.Capture(ex);
        }
    }

    public static DispatchTable Table
    {
        get
        {
            if (s_table is null)
            {
                throw new InvalidOperationException($"Wiring the input channels of {typeof(TSelf).Name} failed: {s_error!.SourceException.Message}", s_error.SourceException);
            }

            return s_table;
        }
    }
}
