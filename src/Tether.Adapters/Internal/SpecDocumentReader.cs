using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Tether.Adapters.Internal;

/// <summary>
/// Reads one YAML document of a spec into a <see cref="ContractSpec"/>: checks every key against the keys it knows, and
/// adds every error to <c>errors</c> with its file, line and column instead of stopping at the first.
/// </summary>
internal sealed class SpecDocumentReader(string file, List<SpecError> errors)
{
    private static readonly string[] s_topKeys = ["message", "description", "enforce", "sensitive", "defaults", "rules", "mapFrom"];
    private static readonly string[] s_ruleKeys = ["field", "required", "range", "length", "pattern", "oneOf", "count", "each", "contract", "custom", "check", "hint"];
    private static readonly string[] s_boundKeys = ["min", "max"];
    private static readonly string[] s_mapKeys = ["message", "fields"];
    private static readonly string[] s_fieldMapKeys = ["from", "format", "culture", "default", "ignore"];

    public ContractSpec? ReadContract(YamlNode root)
    {
        if (root is not YamlMappingNode map)
        {
            Error(root, "a contract is a mapping that starts with 'message: NAME'");
            return null;
        }

        CheckKeys(map, s_topKeys, "contract");
        YamlNode? messageNode = Get(map, "message");
        string? message = messageNode is null ? null : Scalar(messageNode, "message");
        if (messageNode is null)
        {
            Error(map, "the contract has no 'message:' naming its message type (for example message: Orders.PlaceOrder)");
        }

        if (message is null)
        {
            return null;
        }

        Enforcement enforce = Enforcement.Input;
        if (Get(map, "enforce") is { } enforceNode && Scalar(enforceNode, "enforce") is { } enforceText)
        {
            switch (enforceText)
            {
                case "input":
                    enforce = Enforcement.Input;
                    break;
                case "output":
                    enforce = Enforcement.Output;
                    break;
                case "both":
                    enforce = Enforcement.Both;
                    break;
                default:
                    Error(enforceNode, $"enforce must be input, output or both, not '{enforceText}'");
                    break;
            }
        }

        return new ContractSpec
        {
            Message = message,
            Description = Get(map, "description") is { } description ? Scalar(description, "description") : null,
            Enforce = enforce,
            Sensitive = Get(map, "sensitive") is { } sensitive ? ScalarList(sensitive, "sensitive") : [],
            Defaults = Get(map, "defaults") is { } defaults ? ReadDefaults(defaults) : [],
            Rules = Get(map, "rules") is { } rules ? ReadRules(rules) : [],
            MapFrom = Get(map, "mapFrom") is { } maps ? ReadMaps(maps) : [],
            Location = At(messageNode!),
        };
    }

    private List<DefaultSpec> ReadDefaults(YamlNode node)
    {
        var result = new List<DefaultSpec>();
        if (node is not YamlMappingNode map)
        {
            Error(node, "defaults is a mapping of field: value");
            return result;
        }

        foreach ((YamlNode key, YamlNode value) in map.Children)
        {
            if (Scalar(key, "a default's field") is { } field && Scalar(value, $"the default of {field}") is { } text)
            {
                result.Add(new DefaultSpec(field, text, At(key)));
            }
        }

        return result;
    }

    private List<RuleSpec> ReadRules(YamlNode node)
    {
        var result = new List<RuleSpec>();
        foreach (YamlNode item in Items(node, "rules is a list: start each rule with '- field: NAME'"))
        {
            ReadRule(item, result);
        }

        return result;
    }

    private void ReadRule(YamlNode node, List<RuleSpec> result)
    {
        if (node is not YamlMappingNode map)
        {
            Error(node, "a rule is a mapping such as '{ field: quantity, range: { min: 1 } }'");
            return;
        }

        CheckKeys(map, s_ruleKeys, "rule");
        string path = Get(map, "field") is { } fieldNode ? Scalar(fieldNode, "field") ?? "" : "";
        string? hint = Get(map, "hint") is { } hintNode ? Scalar(hintNode, "hint") : null;
        foreach ((YamlNode keyNode, YamlNode value) in map.Children)
        {
            string key = keyNode is YamlScalarNode { Value: { } name } ? name : "";
            RuleSpec? rule = key switch
            {
                "required" => Bool(value, "required") == true ? new RuleSpec { Kind = RuleKind.Required } : null,
                "range" => Bounds(value, "range", RuleKind.Range),
                "length" => Bounds(value, "length", RuleKind.Length),
                "count" => Bounds(value, "count", RuleKind.Count),
                "pattern" => Scalar(value, "pattern") is { } pattern ? new RuleSpec { Kind = RuleKind.Pattern, Pattern = pattern } : null,
                "oneOf" => new RuleSpec { Kind = RuleKind.OneOf, Values = ScalarList(value, "oneOf") },
                "each" => new RuleSpec { Kind = RuleKind.Each, Rules = ReadRules(value) },
                "contract" => Scalar(value, "contract") is { } contract ? new RuleSpec { Kind = RuleKind.Nested, Contract = contract } : null,
                "custom" => Scalar(value, "custom") is { } predicate ? new RuleSpec { Kind = RuleKind.Custom, Predicate = predicate } : null,
                "check" => Scalar(value, "check") is { } expression ? new RuleSpec { Kind = RuleKind.Compare, Expression = expression } : null,
                _ => null,
            };
            if (rule is not null)
            {
                result.Add(rule with { Path = path, Hint = hint, Location = At(keyNode) });
            }
        }

        if (!map.Children.Keys.OfType<YamlScalarNode>().Any(k => k.Value is not ("field" or "hint")))
        {
            Error(map, "this rule names no check: add one of required, range, length, pattern, oneOf, count, each, contract, custom or check");
        }
    }

    private RuleSpec? Bounds(YamlNode node, string name, RuleKind kind)
    {
        if (node is not YamlMappingNode map)
        {
            Error(node, $"{name} is a mapping such as '{{ min: 1, max: 10 }}'");
            return null;
        }

        CheckKeys(map, s_boundKeys, name);
        return new RuleSpec
        {
            Kind = kind,
            Min = Get(map, "min") is { } min ? Scalar(min, $"{name} min") : null,
            Max = Get(map, "max") is { } max ? Scalar(max, $"{name} max") : null,
        };
    }

    private List<MapSpec> ReadMaps(YamlNode node)
    {
        var result = new List<MapSpec>();
        foreach (YamlNode item in Items(node, "mapFrom is a list: start each entry with '- message: NAME'"))
        {
            if (item is not YamlMappingNode map)
            {
                Error(item, "a mapFrom entry is a mapping with 'message:' and 'fields:'");
                continue;
            }

            CheckKeys(map, s_mapKeys, "mapFrom entry");
            YamlNode? fromNode = Get(map, "message");
            if (fromNode is null)
            {
                Error(map, "the mapFrom entry has no 'message:' naming the source message type");
                continue;
            }

            if (Scalar(fromNode, "message") is not { } from)
            {
                continue;
            }

            var fields = new List<FieldMapSpec>();
            if (Get(map, "fields") is { } fieldsNode)
            {
                if (fieldsNode is YamlMappingNode fieldsMap)
                {
                    foreach ((YamlNode key, YamlNode value) in fieldsMap.Children)
                    {
                        if (Scalar(key, "a mapped field") is { } field && ReadFieldMap(field, key, value) is { } fieldMap)
                        {
                            fields.Add(fieldMap);
                        }
                    }
                }
                else
                {
                    Error(fieldsNode, "fields is a mapping of destination field: source field (or { from, format, culture, default })");
                }
            }

            result.Add(new MapSpec(from, fields, At(fromNode)));
        }

        return result;
    }

    private FieldMapSpec? ReadFieldMap(string field, YamlNode key, YamlNode value)
    {
        if (value is YamlScalarNode)
        {
            return Scalar(value, field) is { } source ? new FieldMapSpec { Field = field, From = source, Location = At(key) } : null;
        }

        if (value is not YamlMappingNode map)
        {
            Error(value, $"the mapping of {field} is a source field name or a mapping {{ from, format, culture, default, ignore }}");
            return null;
        }

        CheckKeys(map, s_fieldMapKeys, $"mapping of {field}");
        return new FieldMapSpec
        {
            Field = field,
            From = Get(map, "from") is { } from ? Scalar(from, "from") : null,
            Format = Get(map, "format") is { } format ? Scalar(format, "format") : null,
            Culture = Get(map, "culture") is { } culture ? Scalar(culture, "culture") : null,
            Default = Get(map, "default") is { } fallback ? Scalar(fallback, "default") : null,
            Ignore = Get(map, "ignore") is { } ignore && Bool(ignore, "ignore") == true,
            Location = At(key),
        };
    }

    private void CheckKeys(YamlMappingNode map, string[] known, string what)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (YamlNode key in map.Children.Keys)
        {
            if (key is not YamlScalarNode { Value: { } name })
            {
                Error(key, $"a {what} key must be a plain name");
                continue;
            }

            if (!seen.Add(name))
            {
                Error(key, $"'{name}' appears twice in this {what}");
            }

            if (!known.Contains(name, StringComparer.Ordinal))
            {
                Error(key, $"unknown {what} key '{name}'{SpecNames.Suggest(name, known)}; known keys: {string.Join(", ", known)}");
            }
        }
    }

    private static YamlNode? Get(YamlMappingNode map, string key)
    {
        foreach ((YamlNode k, YamlNode v) in map.Children)
        {
            if (k is YamlScalarNode { Value: { } name } && string.Equals(name, key, StringComparison.Ordinal))
            {
                return v;
            }
        }

        return null;
    }

    private string? Scalar(YamlNode node, string what)
    {
        if (node is YamlScalarNode scalar && scalar.Value is not null)
        {
            if (scalar.Value.Length == 0 || (scalar.Style == ScalarStyle.Plain && scalar.Value is "~" or "null"))
            {
                Error(node, $"{what} is empty");
                return null;
            }

            return scalar.Value;
        }

        Error(node, $"{what} must be a single value, not a {(node is YamlSequenceNode ? "list" : "mapping")}");
        return null;
    }

    private bool? Bool(YamlNode node, string what)
    {
        string? text = Scalar(node, what);
        switch (text)
        {
            case null:
                return null;
            case "true":
                return true;
            case "false":
                return false;
            default:
                Error(node, $"{what} is true or false, not '{text}'");
                return null;
        }
    }

    private List<string> ScalarList(YamlNode node, string what)
    {
        var result = new List<string>();
        foreach (YamlNode item in Items(node, $"{what} is a list such as [a, b]"))
        {
            if (Scalar(item, $"an item of {what}") is { } value)
            {
                result.Add(value);
            }
        }

        return result;
    }

    /// <summary>The items of a list; none, and <paramref name="notAList"/> as the error, when <paramref name="node"/> is not a list.</summary>
    private IEnumerable<YamlNode> Items(YamlNode node, string notAList)
    {
        if (node is YamlSequenceNode sequence)
        {
            return sequence.Children;
        }

        Error(node, notAList);
        return [];
    }

    private SpecLocation At(YamlNode node) => new(file, ContractSpecReader.ToInt(node.Start.Line), ContractSpecReader.ToInt(node.Start.Column));

    private void Error(YamlNode node, string message) => errors.Add(new SpecError(At(node), message));
}
