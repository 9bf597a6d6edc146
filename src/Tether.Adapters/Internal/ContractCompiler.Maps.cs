using System.Reflection;

namespace Tether.Adapters.Internal;

// Defaults and mappings: a contract's defaults become a stage that fills missing fields, and each mapFrom entry a
// plan that builds the contract's type from another message type.
internal sealed partial class ContractCompiler
{
    private DefaultsStage? CompileDefaults(CompiledContract contract)
    {
        if (contract.Spec.Defaults.Count == 0)
        {
            return null;
        }

        TypeShape shape = TypeShape.Of(contract.Type);
        var values = new Dictionary<string, object>(StringComparer.OrdinalIgnoreCase);
        foreach (DefaultSpec entry in contract.Spec.Defaults)
        {
            SpecLocation? at = entry.Location ?? contract.Spec.Location;
            string where = $"{contract.Name}: default for '{entry.Field}'";
            if (shape.ConstructError is { } constructError)
            {
                errors.Add(new(at, $"{where}: {constructError}"));
                return null;
            }

            WritableMember? member = shape.Writable.FirstOrDefault(w => string.Equals(w.Name, entry.Field, StringComparison.OrdinalIgnoreCase));
            if (member is null)
            {
                _ = shape.Find(entry.Field, out string? findError);
                errors.Add(new(at, $"{where}: {findError ?? $"{contract.Type.Name}.{entry.Field} can be neither set nor passed to its constructor"}"));
                continue;
            }

            if (!TypeNames.CanBeNull(member.Type))
            {
                errors.Add(new(at, $"{where}: {contract.Type.Name}.{member.Name} is {TypeNames.Friendly(member.Type)}, which is never missing; make it {TypeNames.Friendly(member.Type)}? for a default to apply"));
                continue;
            }

            if (!Literals.TryParse(entry.Value, member.Type, out object? value, out string? literalError))
            {
                errors.Add(new(at, $"{where}: {literalError}"));
                continue;
            }

            values[member.Name] = value!;
        }

        return values.Count == contract.Spec.Defaults.Count ? new DefaultsStage(contract.Name, shape, values) : null;
    }

    private FieldPlan[] PlanMap(CompiledContract target, MapSpec map, Type source)
    {
        TypeShape shape = TypeShape.Of(target.Type);
        SpecLocation? mapAt = map.Location ?? target.Spec.Location;
        string where = $"{target.Name}: mapping from {map.From}";
        if (shape.ConstructError is { } constructError)
        {
            errors.Add(new(mapAt, $"{where}: {constructError}"));
            return [];
        }

        foreach (FieldMapSpec field in map.Fields)
        {
            if (!shape.Writable.Any(w => string.Equals(w.Name, field.Field, StringComparison.OrdinalIgnoreCase)))
            {
                _ = shape.Find(field.Field, out string? findError);
                errors.Add(new(field.Location ?? mapAt, $"{where}: {findError ?? $"{target.Type.Name}.{field.Field} can be neither set nor passed to its constructor"}"));
            }
        }

        ContractSpec? sourceContract = _contracts.Values.FirstOrDefault(c => c.Type == source)?.Spec;
        var nullability = new NullabilityInfoContext();
        var plans = new List<FieldPlan>();
        foreach (WritableMember member in shape.Writable)
        {
            FieldMapSpec? field = map.Fields.FirstOrDefault(f => string.Equals(f.Field, member.Name, StringComparison.OrdinalIgnoreCase));
            SpecLocation? at = field?.Location ?? mapAt;
            string fieldWhere = $"{where}, field {member.Name}";
            object? typeDefault = member.Type.IsValueType ? Activator.CreateInstance(member.Type) : null;
            bool nullable = TypeNames.CanBeNull(member.Type) && !IsNonNullableReference(nullability, member);
            object? fallback = member.Parameter is { HasDefaultValue: true } p ? p.DefaultValue ?? typeDefault : typeDefault;
            bool hasDefault = member.Parameter is { HasDefaultValue: true };
            if (field is { Ignore: true })
            {
                plans.Add(new FieldPlan(member, null, null, fallback, true, false, false, field, "left at its default"));
                continue;
            }

            if (field?.Default is { } defaultText)
            {
                if (!Literals.TryParse(defaultText, member.Type, out fallback, out string? literalError))
                {
                    errors.Add(new(at, $"{fieldWhere}: default {literalError}"));
                    continue;
                }

                hasDefault = true;
            }

            string sourcePath = field?.From ?? member.Name;
            CompiledPath? path = PathAccessor.Compile(source, sourcePath, out string? pathError);
            if (path is null && field?.From is not null)
            {
                errors.Add(new(at, $"{fieldWhere}: {pathError}"));
                continue;
            }

            if (path is null && !hasDefault && !nullable)
            {
                errors.Add(new(at, $"{fieldWhere}: {source.Name} has no field {member.Name}; add '{Camel(member.Name)}: {{ from: SOURCE_FIELD }}', '{{ default: VALUE }}' or '{{ ignore: true }}' to the mapping's fields"));
                continue;
            }

            Conversion? conversion = null;
            if (path is not null)
            {
                conversion = Converters.Create(path.DeclaredType, member.Type, field?.Format, field?.Culture, FindMap, out string? conversionError);
                if (conversion is null)
                {
                    errors.Add(new(at, $"{fieldWhere}: {conversionError}"));
                    continue;
                }
            }

            var words = new List<string>();
            if (path is null)
            {
                words.Add(hasDefault ? $"always {ValueText.Of(fallback)} ({source.Name} has no such field)" : $"left empty ({source.Name} has no such field)");
            }
            else
            {
                words.Add(string.Equals(sourcePath, member.Name, StringComparison.OrdinalIgnoreCase) ? $"from {sourcePath}" : $"from {sourcePath} (renamed)");
                if (conversion!.Convert is not null)
                {
                    words.Add(conversion.Words);
                }

                if (hasDefault && field?.Default is not null)
                {
                    words.Add($"{ValueText.Of(fallback)} when missing");
                }
            }

            bool sensitive = IsSensitive(sourceContract, sourcePath) || IsSensitive(target.Spec, member.Name);
            plans.Add(new FieldPlan(member, path, conversion, fallback, hasDefault, !nullable, sensitive, field, string.Join(", ", words)));
        }

        return [.. plans];
    }

    private MapStage? FindMap(Type from, Type to) => _maps.GetValueOrDefault((from, to));

    private static bool IsNonNullableReference(NullabilityInfoContext context, WritableMember member)
    {
        if (member.Type.IsValueType)
        {
            return false;
        }

        NullabilityInfo info = member.Parameter is { } parameter ? context.Create(parameter)
            : member.Member is PropertyInfo property ? context.Create(property)
            : context.Create((FieldInfo)member.Member);
        return info.WriteState == NullabilityState.NotNull;
    }

    private static string Camel(string name) => name.Length == 0 ? name : char.ToLowerInvariant(name[0]) + name[1..];
}
