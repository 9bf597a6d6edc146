using System.Globalization;
using System.Runtime.CompilerServices;

namespace Tether.Adapters;

/// <summary>
/// Writes a contract in C#; <see cref="Build"/> yields the same <see cref="ContractSpec"/> a YAML file would. Errors found
/// later name the C# file and line of the call that wrote the rule.
/// </summary>
/// <example>
/// <code>
/// ContractSpec spec = ContractBuilder.For("Orders.PlaceOrder")
///     .Default("currency", "EUR")
///     .Field("customerId", f =&gt; f.Required().Length(3, 20))
///     .Field("quantity", f =&gt; f.Range(1, 100))
///     .Check("end &gt;= start")
///     .Build();
/// </code>
/// </example>
public sealed class ContractBuilder
{
    private readonly List<RuleSpec> _rules = [];
    private readonly List<DefaultSpec> _defaults = [];
    private readonly List<string> _sensitive = [];
    private readonly List<MapSpec> _maps = [];
    private readonly string _message;
    private readonly SpecLocation _location;
    private Enforcement _enforce = Enforcement.Input;
    private string? _description;

    private ContractBuilder(string message, SpecLocation location)
    {
        _message = message;
        _location = location;
    }

    /// <summary>Starts the contract of the message type named <paramref name="message"/>.</summary>
    public static ContractBuilder For(string message, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(message);
        return new ContractBuilder(message, At(file, line));
    }

    /// <summary>Sets where the rules are enforced (default <see cref="Enforcement.Input"/>).</summary>
    public ContractBuilder Enforce(Enforcement enforce)
    {
        _enforce = enforce;
        return this;
    }

    /// <summary>Describes the message.</summary>
    public ContractBuilder Description(string description)
    {
        _description = description;
        return this;
    }

    /// <summary>Marks field paths whose values are masked in errors and logs.</summary>
    public ContractBuilder Sensitive(params string[] paths)
    {
        _sensitive.AddRange(paths);
        return this;
    }

    /// <summary>Gives a missing (null) top-level field a value, filled in before the rules run.</summary>
    public ContractBuilder Default<T>(string field, T value, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0)
        where T : notnull
    {
        _defaults.Add(new DefaultSpec(field, Text(value), At(file, line)));
        return this;
    }

    /// <summary>Adds rules on one field.</summary>
    public ContractBuilder Field(string path, Action<FieldRules> rules, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0)
    {
        ArgumentNullException.ThrowIfNull(rules);
        var field = new FieldRules(path, At(file, line));
        rules(field);
        _rules.AddRange(field.Rules);
        return this;
    }

    /// <summary>Adds a cross-field comparison such as <c>end &gt;= start</c>.</summary>
    public ContractBuilder Check(string expression, string? hint = null, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0)
    {
        _rules.Add(new RuleSpec { Kind = RuleKind.Compare, Expression = expression, Hint = hint, Location = At(file, line) });
        return this;
    }

    /// <summary>Adds a named predicate (registered in code) on the whole message.</summary>
    public ContractBuilder Custom(string predicate, string? hint = null, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0)
    {
        _rules.Add(new RuleSpec { Kind = RuleKind.Custom, Predicate = predicate, Hint = hint, Location = At(file, line) });
        return this;
    }

    /// <summary>Adds a mapping onto this message from the message type <paramref name="source"/> (v1 → v2, or a projection).</summary>
    public ContractBuilder MapFrom(string source, Action<MapBuilder>? fields = null, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0)
    {
        var map = new MapBuilder(At(file, line));
        fields?.Invoke(map);
        _maps.Add(new MapSpec(source, map.Fields, At(file, line)));
        return this;
    }

    /// <summary>The contract.</summary>
    public ContractSpec Build() => new()
    {
        Message = _message,
        Description = _description,
        Enforce = _enforce,
        Sensitive = [.. _sensitive],
        Defaults = [.. _defaults],
        Rules = [.. _rules],
        MapFrom = [.. _maps],
        Location = _location,
    };

    internal static SpecLocation At(string file, int line) => new(file.Length == 0 ? "code" : file, Math.Max(line, 1), 1);

    /// <summary>A value as the invariant text a spec holds: numbers invariant, dates and times in round-trip form.</summary>
    internal static string Text(object value) => value switch
    {
        string s => s,
        bool b => b ? "true" : "false",
        DateTime or DateTimeOffset or DateOnly or TimeOnly => ((IFormattable)value).ToString("O", CultureInfo.InvariantCulture),
        TimeSpan t => t.ToString("c", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}
