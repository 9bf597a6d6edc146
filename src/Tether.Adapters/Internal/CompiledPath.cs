namespace Tether.Adapters.Internal;

/// <summary>A compiled path: the getter (a <see cref="PathGetter{T}"/> of <see cref="ValueType"/>) and a boxing variant for transforms.</summary>
internal sealed record CompiledPath(string Path, Type ValueType, Type DeclaredType, Delegate Getter, Func<object, object?> Boxed);
