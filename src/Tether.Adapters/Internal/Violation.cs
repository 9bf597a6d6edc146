namespace Tether.Adapters.Internal;

/// <summary>What broke, before it is named with the message type: the path inside the message, the rule and the value.</summary>
internal sealed record Violation(string Path, string Rule, string Value, string Detail, RuleSpec Spec);
