using System.Text;
using Tether.Adapters.Internal;

namespace Tether.Adapters;

/// <summary>
/// Tells, in plain words and without running anything, what the mailbox does with a message type: the defaults, the rules
/// in order, the mappings onto it and from it, and what a sender sees on a violation. Works on specs alone (no CLR types).
/// </summary>
public static class ContractExplainer
{
    /// <summary>Explains the effective pipe of the contract named <paramref name="message"/>; null when no spec names it.</summary>
    public static string? Explain(string message, IReadOnlyList<ContractSpec> specs)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(specs);
        ContractSpec? spec = specs.FirstOrDefault(s => string.Equals(s.Message, message, StringComparison.Ordinal));
        var text = new StringBuilder();
        if (spec is null)
        {
            List<MapSpec> onlyMaps = [.. specs.SelectMany(s => s.MapFrom).Where(m => string.Equals(m.From, message, StringComparison.Ordinal))];
            if (onlyMaps.Count == 0)
            {
                return null;
            }

            text.AppendLine($"{message} has no contract of its own: it is neither checked nor changed on its own.");
            AppendMapsFrom(text, message, specs);
            return text.ToString();
        }

        text.AppendLine($"Contract {spec.Message}{At(spec.Location, " (", ")")}");
        if (spec.Description is not null)
        {
            text.AppendLine($"  {spec.Description}");
        }

        text.AppendLine(spec.Enforce switch
        {
            Enforcement.Output => "Enforced after an output channel (postcondition): when a target sends, publishes, requests or answers with it.",
            Enforcement.Both => "Enforced both ways: before an input channel (precondition) and after an output channel (postcondition).",
            _ => "Enforced before an input channel (precondition): when it arrives at a target's mailbox.",
        });
        text.AppendLine();
        text.AppendLine($"What happens to each {spec.Message} message:");
        int step = 1;
        if (spec.Defaults.Count > 0)
        {
            text.AppendLine($"  {step++}. Missing fields get defaults: {string.Join(", ", spec.Defaults.Select(d => $"{d.Field} = {d.Value}"))}.");
        }

        if (spec.Rules.Count > 0)
        {
            text.AppendLine($"  {step++}. The rules are checked in this order; the first one broken stops the message:");
            int number = 1;
            foreach (RuleSpec rule in spec.Rules)
            {
                AppendRule(text, rule, $"     {number++}) ", "        ");
            }
        }
        else
        {
            text.AppendLine($"  {step++}. No rules are checked.");
        }

        string passes = spec.Enforce == Enforcement.Output ? "It is sent on." : "It goes to the target's input channel for it.";
        text.AppendLine($"  {step}. {passes}");
        if (spec.Sensitive.Count > 0)
        {
            text.AppendLine($"  Sensitive fields (their values are masked in errors and logs): {string.Join(", ", spec.Sensitive)}.");
        }

        if (spec.MapFrom.Count > 0)
        {
            text.AppendLine();
            text.AppendLine($"Other message types become {spec.Message} when they arrive at a target that handles {spec.Message} but not them;");
            text.AppendLine("each is checked against its own contract (if any), mapped, then checked as above:");
            foreach (MapSpec map in spec.MapFrom)
            {
                bool hasContract = specs.Any(s => string.Equals(s.Message, map.From, StringComparison.Ordinal));
                text.AppendLine($"  - from {map.From}{At(map.Location, " (", ")")}{(hasContract ? "" : "; it has no contract of its own")}:");
                foreach (FieldMapSpec field in map.Fields)
                {
                    text.AppendLine($"      {field.Field}: {FieldWords(field)}");
                }

                text.AppendLine("      every other field: from the field of the same name (case-insensitive), converted if needed.");
            }
        }

        AppendMapsFrom(text, spec.Message, specs);
        text.AppendLine();
        text.AppendLine("On a violation the handler does not run. A request fails at the caller with error code contract-violation;");
        text.AppendLine("the text names the message type, the field, the rule and the value (masked when sensitive). A send or an event");
        text.AppendLine("is dropped, counted in NodeStatistics.ContractViolations and logged (once per rule, then at most once a minute).");
        if (spec.Enforce.HasFlag(Enforcement.Output))
        {
            text.AppendLine("On the way out, the code that sends gets the error (a ContractViolationException) and nothing is sent;");
            text.AppendLine("a handler's answer that breaks a rule reaches its requester as that error instead.");
        }

        return text.ToString();
    }

    private static void AppendMapsFrom(StringBuilder text, string message, IReadOnlyList<ContractSpec> specs)
    {
        List<ContractSpec> targets = [.. specs.Where(s => s.MapFrom.Any(m => string.Equals(m.From, message, StringComparison.Ordinal)))];
        if (targets.Count == 0)
        {
            return;
        }

        text.AppendLine();
        text.AppendLine($"{message} arriving at a target that handles only one of these (and not {message} itself) is mapped onto it first:");
        foreach (ContractSpec target in targets)
        {
            text.AppendLine($"  - {target.Message}{At(target.Location, " (", ")")}");
        }
    }

    private static void AppendRule(StringBuilder text, RuleSpec rule, string first, string indent)
    {
        string subject = rule.Path;
        text.Append(first).Append(RuleWords.Sentence(rule, subject));
        if (rule.Hint is not null)
        {
            text.Append($" — hint: {rule.Hint}");
        }

        text.AppendLine(At(rule.Location, "  [", "]"));
        if (rule is { Kind: RuleKind.Each, Rules: { } items })
        {
            foreach (RuleSpec item in items)
            {
                AppendRule(text, item, indent + "- ", indent + "  ");
            }
        }
    }

    private static string FieldWords(FieldMapSpec field)
    {
        if (field.Ignore)
        {
            return "left at its default value";
        }

        var words = new List<string> { field.From is null ? "from the field of the same name" : $"from {field.From} (renamed)" };
        if (field.Format is not null || field.Culture is not null)
        {
            words.Add($"converted with format {field.Format ?? "(the type's round-trip form)"}, culture {field.Culture ?? "invariant"}");
        }

        if (field.Default is not null)
        {
            words.Add($"{field.Default} when missing");
        }

        return string.Join(", ", words);
    }

    private static string At(SpecLocation? location, string before, string after) => location is { } at ? $"{before}{at}{after}" : "";
}
