namespace Tether.Adapters.Internal;

/// <summary>A predicate registered in code under a name, for <see cref="RuleKind.Custom"/> rules.</summary>
internal sealed record RegisteredPredicate(string Name, Type ParameterType, Delegate Predicate);
