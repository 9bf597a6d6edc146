namespace Tether.Adapters.Internal;

internal sealed class CustomCheck<T>(RuleSpec spec, bool sensitive, PathGetter<T> get, Func<T, bool> predicate) : Check(spec, sensitive)
{
    public override Violation? Validate(object message)
    {
        if (!get(message, out T value))
        {
            return null;
        }

        try
        {
            return predicate(value) ? null : Fail(value, $"the predicate '{Spec.Predicate}' does not hold");
        }
#pragma warning disable CA1031 // a predicate that throws rejects the message; it never takes the mailbox down
        catch (Exception ex)
#pragma warning restore CA1031
        {
            return Fail(value, $"the predicate '{Spec.Predicate}' threw {ex.GetType().Name}: {ex.Message}");
        }
    }
}
