namespace Tether.Adapters.Internal;

/// <summary>The shape of names in specs, and "did you mean" suggestions.</summary>
internal static class SpecNames
{
    /// <summary>A contract name, by the runtime's one rule (<see cref="Names.IsContractName"/>).</summary>
    public static bool IsContractName(string name) => Names.IsContractName(name);

    /// <summary>A field name: letters, digits and '_', starting with a letter or '_'.</summary>
    public static bool IsIdentifier(string name)
        => name.Length > 0 && (char.IsLetter(name[0]) || name[0] == '_') && name.All(c => char.IsLetterOrDigit(c) || c == '_');

    /// <summary>Field names joined by dots.</summary>
    public static bool IsPath(string path) => path.Length > 0 && path.Split('.').All(IsIdentifier);

    /// <summary>" (did you mean 'x'?)" when a known word is close to <paramref name="word"/>; empty otherwise.</summary>
    public static string Suggest(string word, IEnumerable<string> known)
    {
        string? best = null;
        int bestDistance = int.MaxValue;
        foreach (string candidate in known)
        {
            int distance = Distance(word.ToUpperInvariant(), candidate.ToUpperInvariant());
            if (distance < bestDistance)
            {
                best = candidate;
                bestDistance = distance;
            }
        }

        return best is not null && bestDistance <= Math.Max(2, word.Length / 3) ? $" (did you mean '{best}'?)" : "";
    }

    private static int Distance(string a, string b)
    {
        int[] previous = new int[b.Length + 1];
        int[] current = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }

        for (int i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int cost = a[i - 1] == b[j - 1] ? 0 : 1;
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }
}
