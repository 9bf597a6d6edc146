namespace Tether.Adapters.Internal;

internal sealed class CountCheck<TCollection>(RuleSpec spec, bool sensitive, PathGetter<TCollection> get, Func<TCollection, int> count, int min, int max)
    : Check(spec, sensitive)
{
    public override Violation? Validate(object message)
    {
        if (!get(message, out TCollection collection))
        {
            return null;
        }

        int n = count(collection);
        if (n < min)
        {
            return Fail(collection, $"it has {n} items, fewer than the minimum {min}");
        }

        return n > max ? Fail(collection, $"it has {n} items, more than the maximum {max}") : null;
    }
}
