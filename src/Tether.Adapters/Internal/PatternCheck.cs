using System.Text.RegularExpressions;

namespace Tether.Adapters.Internal;

internal sealed class PatternCheck(RuleSpec spec, bool sensitive, PathGetter<string> get, Regex regex) : Check(spec, sensitive)
{
    public override Violation? Validate(object message)
    {
        if (!get(message, out string text))
        {
            return null;
        }

        try
        {
            return regex.IsMatch(text) ? null : Fail(text, $"it does not match the pattern {Spec.Pattern}");
        }
        catch (RegexMatchTimeoutException)
        {
            return Fail(text, $"matching the pattern {Spec.Pattern} took too long; simplify the pattern or send shorter text");
        }
    }
}
