using System.Collections.Concurrent;
using System.Linq.Expressions;
using System.Reflection;

namespace Tether.Adapters.Internal;

/// <summary>
/// What the adapters need to know of a message type, found by reflection once: its readable members (matched to spec
/// names case-insensitively) and how to build an instance (the constructor with the most parameters that match members,
/// plus settable members). Instances are built by a compiled delegate, never by reflection per message.
/// </summary>
internal sealed class TypeShape
{
    private static readonly ConcurrentDictionary<Type, TypeShape> s_shapes = new();
    private readonly Dictionary<string, List<MemberInfo>> _readable = new(StringComparer.OrdinalIgnoreCase);
    private Func<object?[], object>? _create;

    private TypeShape(Type type)
    {
        Type = type;
        const BindingFlags flags = BindingFlags.Public | BindingFlags.Instance;
        foreach (PropertyInfo property in type.GetProperties(flags))
        {
            if (property.GetIndexParameters().Length == 0 && property.GetMethod is { IsPublic: true } && property.Name != "EqualityContract")
            {
                Add(property);
            }
        }

        foreach (FieldInfo field in type.GetFields(flags))
        {
            Add(field);
        }

        FindConstructor();
    }

    public Type Type { get; }

    /// <summary>The members a new instance is built from: constructor parameters first, then settable members.</summary>
    public IReadOnlyList<WritableMember> Writable { get; private set; } = [];

    public ConstructorInfo? Constructor { get; private set; }

    /// <summary>Why no instance can be built, or null.</summary>
    public string? ConstructError { get; private set; }

    public static TypeShape Of(Type type) => s_shapes.GetOrAdd(type, static t => new TypeShape(t));

    public MemberInfo? Find(string name, out string? error)
    {
        error = null;
        if (!_readable.TryGetValue(name, out List<MemberInfo>? members))
        {
            error = $"{TypeNames.Friendly(Type)} has no field or property '{name}'{SpecNames.Suggest(name, _readable.Keys)}";
            return null;
        }

        if (members.Count > 1)
        {
            MemberInfo? exact = members.FirstOrDefault(m => string.Equals(m.Name, name, StringComparison.Ordinal));
            if (exact is null)
            {
                error = $"'{name}' matches several members of {Type.Name} ({string.Join(", ", members.Select(m => m.Name))}); write the exact name";
            }

            return exact;
        }

        return members[0];
    }

    public IEnumerable<string> ReadableNames => _readable.Values.SelectMany(m => m).Select(m => m.Name);

    public static Type TypeOf(MemberInfo member) => member is PropertyInfo p ? p.PropertyType : ((FieldInfo)member).FieldType;

    /// <summary>Builds an instance from values in <see cref="Writable"/> order (compiled on first use).</summary>
    public object Create(object?[] values) => (_create ??= CompileCreate())(values);

    private void Add(MemberInfo member)
    {
        if (!_readable.TryGetValue(member.Name, out List<MemberInfo>? list))
        {
            _readable[member.Name] = list = [];
        }

        list.Add(member);
    }

    private void FindConstructor()
    {
        if (Type.IsAbstract || Type.IsInterface)
        {
            ConstructError = $"{Type.Name} is abstract; a mapping or a default needs a concrete type";
            return;
        }

        ConstructorInfo? best = null;
        foreach (ConstructorInfo constructor in Type.GetConstructors(BindingFlags.Public | BindingFlags.Instance))
        {
            ParameterInfo[] parameters = constructor.GetParameters();
            bool isCopy = parameters.Length == 1 && parameters[0].ParameterType == Type;
            bool matches = parameters.All(p => p.Name is not null && Find(p.Name, out _) is { } m && TypeOf(m) == p.ParameterType);
            if (!isCopy && matches && (best is null || parameters.Length > best.GetParameters().Length))
            {
                best = constructor;
            }
        }

        if (best is null && !Type.IsValueType)
        {
            ConstructError = $"{Type.Name} has no public constructor whose parameters all match its properties (as a record's primary constructor does)";
            return;
        }

        Constructor = best;
        var writable = new List<WritableMember>();
        foreach (ParameterInfo parameter in best?.GetParameters() ?? [])
        {
            writable.Add(new WritableMember(Find(parameter.Name!, out _)!, parameter.ParameterType, parameter));
        }

        foreach (MemberInfo member in _readable.Values.SelectMany(m => m))
        {
            bool settable = member is PropertyInfo { SetMethod.IsPublic: true } || member is FieldInfo { IsInitOnly: false, IsLiteral: false };
            if (settable && !writable.Exists(w => string.Equals(w.Member.Name, member.Name, StringComparison.OrdinalIgnoreCase)))
            {
                writable.Add(new WritableMember(member, TypeOf(member), null));
            }
        }

        Writable = writable;
    }

    private Func<object?[], object> CompileCreate()
    {
        if (ConstructError is not null)
        {
            throw new InvalidOperationException(ConstructError);
        }

        ParameterExpression values = Expression.Parameter(typeof(object?[]), "values");
        Expression Value(int i) => Expression.Convert(Expression.ArrayIndex(values, Expression.Constant(i)), Writable[i].Type);
        int parameters = Constructor?.GetParameters().Length ?? 0;
        NewExpression create = Constructor is null
            ? Expression.New(Type)
            : Expression.New(Constructor, Enumerable.Range(0, parameters).Select(Value));
        MemberBinding[] bindings = Enumerable.Range(parameters, Writable.Count - parameters)
            .Select(i => (MemberBinding)Expression.Bind(Writable[i].Member, Value(i)))
            .ToArray();
        Expression body = Expression.Convert(bindings.Length == 0 ? create : Expression.MemberInit(create, bindings), typeof(object));
        return Expression.Lambda<Func<object?[], object>>(body, values).Compile();
    }
}
