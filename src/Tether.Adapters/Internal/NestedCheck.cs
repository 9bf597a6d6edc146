namespace Tether.Adapters.Internal;

internal sealed class NestedCheck<T>(RuleSpec spec, bool sensitive, PathGetter<T> get, ContractRef nested) : Check(spec, sensitive)
    where T : class
{
    public override Violation? Validate(object message)
    {
        if (!get(message, out T value))
        {
            return null;
        }

        Violation? violation = nested.Contract!.Validate(value);
        if (violation is null)
        {
            return null;
        }

        string path = Spec.Path.Length == 0 ? violation.Path : violation.Path.Length == 0 ? Spec.Path : $"{Spec.Path}.{violation.Path}";
        return Sensitive ? violation with { Path = path, Value = "(masked: sensitive field)" } : violation with { Path = path };
    }
}
