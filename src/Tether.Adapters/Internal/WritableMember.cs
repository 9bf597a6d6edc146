using System.Reflection;

namespace Tether.Adapters.Internal;

/// <summary>A member a new instance is built with: a constructor parameter (<see cref="Parameter"/> set) or a settable member.</summary>
internal sealed record WritableMember(MemberInfo Member, Type Type, ParameterInfo? Parameter)
{
    public string Name => Member.Name;
}
