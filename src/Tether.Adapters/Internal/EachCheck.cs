using System.Collections;

namespace Tether.Adapters.Internal;

internal sealed class EachCheck<TItem>(RuleSpec spec, bool sensitive, PathGetter<IEnumerable<TItem>> get, Check[] itemChecks) : Check(spec, sensitive)
{
    public override Violation? Validate(object message)
    {
        if (!get(message, out IEnumerable<TItem> items))
        {
            return null;
        }

        if (items is IReadOnlyList<TItem> list)
        {
            for (int i = 0; i < list.Count; i++)
            {
                if (ValidateItem(list[i], i) is { } violation)
                {
                    return violation;
                }
            }

            return null;
        }

        int index = 0;
        foreach (TItem item in items)
        {
            if (ValidateItem(item, index++) is { } violation)
            {
                return violation;
            }
        }

        return null;
    }

    private Violation? ValidateItem(TItem item, int index)
    {
        if (item is null)
        {
            // A null item breaks only a rule that requires the item itself.
            foreach (Check check in itemChecks)
            {
                if (check.Spec is { Kind: RuleKind.Required, Path.Length: 0 })
                {
                    return Fail(null, "the item is missing (null)", $"{Spec.Path}[{index}]");
                }
            }

            return null;
        }

        object boxed = item;
        foreach (Check check in itemChecks)
        {
            if (check.Validate(boxed) is { } violation)
            {
                return violation with { Path = Join($"{Spec.Path}[{index}]", violation.Path) };
            }
        }

        return null;
    }

    private static string Join(string prefix, string path) => path.Length == 0 ? prefix : $"{prefix}.{path}";
}
