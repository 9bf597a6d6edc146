using System.Globalization;

namespace Tether.Adapters.Internal;

/// <summary>A parsed cross-field rule, <c>end &gt;= start</c>: two operands and an operator.</summary>
internal sealed record CompareExpression(Operand Left, string Operator, Operand Right)
{
    private static readonly string[] s_operators = ["==", "!=", "<=", ">=", "<", ">"];

    public override string ToString() => $"{Left} {Operator} {Right}";

    /// <summary>Parses the text; on failure, <paramref name="error"/> says what is wrong in words.</summary>
    public static CompareExpression? TryParse(string text, out string? error)
    {
        error = null;
        int position = 0;
        Operand? left = ReadOperand(text, ref position, ref error);
        if (left is null)
        {
            return null;
        }

        SkipSpaces(text, ref position);
        string? op = s_operators.FirstOrDefault(o => string.CompareOrdinal(text, position, o, 0, o.Length) == 0);
        if (op is null)
        {
            error = $"expected an operator (==, !=, <, <=, >, >=) after '{left}' at character {position + 1} of \"{text}\"";
            return null;
        }

        position += op.Length;
        Operand? right = ReadOperand(text, ref position, ref error);
        if (right is null)
        {
            return null;
        }

        SkipSpaces(text, ref position);
        if (position < text.Length)
        {
            error = $"unexpected '{text[position..]}' after the comparison \"{text[..position].Trim()}\"; write one comparison per rule";
            return null;
        }

        if (!left.IsField && !right.IsField)
        {
            error = $"\"{text}\" compares two literals; at least one side must be a field";
            return null;
        }

        if ((left.IsText || right.IsText || left.Literal is "true" or "false" || right.Literal is "true" or "false") && op is not ("==" or "!="))
        {
            error = $"\"{text}\": text and true/false can only be compared with == or !=";
            return null;
        }

        return new CompareExpression(left, op, right);
    }

    private static Operand? ReadOperand(string text, ref int position, ref string? error)
    {
        SkipSpaces(text, ref position);
        if (position >= text.Length)
        {
            error = $"\"{text}\" ends where a field or a value was expected";
            return null;
        }

        char c = text[position];
        if (c is '\'' or '"')
        {
            int end = text.IndexOf(c, position + 1);
            if (end < 0)
            {
                error = $"the text starting at character {position + 1} of \"{text}\" has no closing {c}";
                return null;
            }

            var literal = new Operand(null, text[(position + 1)..end], IsText: true);
            position = end + 1;
            return literal;
        }

        int start = position;
        while (position < text.Length && (char.IsLetterOrDigit(text[position]) || text[position] is '_' or '.' or '-' or '+' or ':'))
        {
            position++;
        }

        string word = text[start..position];
        if (word.Length == 0)
        {
            error = $"expected a field or a value at character {start + 1} of \"{text}\", found '{text[start]}'";
            return null;
        }

        if (word is "true" or "false" || decimal.TryParse(word, NumberStyles.Float, CultureInfo.InvariantCulture, out _))
        {
            return new Operand(null, word, IsText: false);
        }

        if (!SpecNames.IsPath(word))
        {
            error = $"'{word}' in \"{text}\" is neither a field path (names joined by dots) nor a number";
            return null;
        }

        return new Operand(word, null, IsText: false);
    }

    private static void SkipSpaces(string text, ref int position)
    {
        while (position < text.Length && char.IsWhiteSpace(text[position]))
        {
            position++;
        }
    }
}
