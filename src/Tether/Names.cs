namespace Tether;

/// <summary>
/// The one rule for names that travel between nodes. A <em>token</em> (a node, service or cluster name) is ASCII
/// letters, digits, '-' and '_', because it becomes one token of a NATS subject. A <em>dotted name</em> (a topic) is
/// tokens joined by dots. A <em>contract name</em> (what a message type is called on the wire and in specs) is ASCII
/// letters, digits, '_', '-' and '.', starts with a letter or '_', and has at most <see cref="MaxContractNameLength"/>
/// characters.
/// </summary>
public static class Names
{
    /// <summary>The longest contract name.</summary>
    public const int MaxContractNameLength = 200;

    /// <summary>True for a non-empty run of ASCII letters, digits, '-' and '_' (a node, service or cluster name).</summary>
    public static bool IsToken(ReadOnlySpan<char> text)
    {
        if (text.IsEmpty)
        {
            return false;
        }

        foreach (char c in text) // a span: no enumerator or delegate per call (it runs for every frame received)
        {
            if (!IsTokenChar(c))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>True for tokens joined by single dots, such as <c>orders.placed</c> (a topic name).</summary>
    public static bool IsDottedName(ReadOnlySpan<char> text)
    {
        if (text.IsEmpty || text[0] == '.' || text[^1] == '.')
        {
            return false;
        }

        char previous = ' ';
        foreach (char c in text)
        {
            if (c == '.' ? previous == '.' : !IsTokenChar(c))
            {
                return false;
            }

            previous = c;
        }

        return true;
    }

    /// <summary>True for a valid contract name, such as <c>Orders.PlaceOrder</c> or <c>orders.place.v2</c>.</summary>
    public static bool IsContractName(ReadOnlySpan<char> text)
    {
        if (text.IsEmpty || text.Length > MaxContractNameLength || !(char.IsAsciiLetter(text[0]) || text[0] == '_'))
        {
            return false;
        }

        foreach (char c in text)
        {
            if (!IsTokenChar(c) && c != '.')
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Why <paramref name="text"/> is not a token, as a sentence naming <paramref name="what"/>; null when it is one.</summary>
    public static string? WhyNotToken(string? text, string what)
        => IsToken(text) ? null : $"{what} \"{text}\" is not valid: use ASCII letters, digits, '-' and '_' only (it becomes a NATS subject token).";

    /// <summary>Why <paramref name="text"/> is not a contract name, as a sentence; null when it is one.</summary>
    public static string? WhyNotContractName(string? text)
        => IsContractName(text) ? null
            : $"\"{text}\" is not a valid contract name: use ASCII letters, digits, '_', '-' and '.', start with a letter or '_', at most {MaxContractNameLength} characters (for example Orders.PlaceOrder).";

    private static bool IsTokenChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '-' or '_';
}
