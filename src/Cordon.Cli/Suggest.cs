using System.CommandLine;

namespace Cordon.Cli;

/// <summary>"Did you mean": the nearest verb or option to a mistyped word, when one is near enough to be meant.</summary>
internal static class Suggest
{
    /// <summary>
    /// The candidate closest to <paramref name="word"/> by edit distance (a swap of two neighbours counts once),
    /// or null when none is within 1 edit (words of up to 4 characters) or 2 (longer ones): further than that, a
    /// suggestion is a guess.
    /// </summary>
    public static string? Nearest(string word, IEnumerable<string> candidates)
    {
        int limit = word.TrimStart('-').Length <= 4 ? 1 : 2;
        string? best = null;
        int bestDistance = int.MaxValue;
        foreach (var c in candidates)
        {
            int d = Distance(word, c);
            if (d > 0 && d <= limit && d < bestDistance)
            {
                best = c;
                bestDistance = d;
            }
        }

        return best;
    }

    /// <summary>Every name and alias of <paramref name="command"/>'s options and subcommands.</summary>
    public static IEnumerable<string> Names(Command command) =>
        command.Options.SelectMany(o => o.Aliases.Prepend(o.Name))
            .Concat(command.Subcommands.SelectMany(c => c.Aliases.Prepend(c.Name)))
            .Distinct(StringComparer.Ordinal);

    /// <summary>Optimal string alignment distance: insertions, deletions, substitutions, adjacent transpositions.</summary>
    public static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }

        for (int j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }

        for (int i = 1; i <= a.Length; i++)
        {
            for (int j = 1; j <= b.Length; j++)
            {
                int cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
                }
            }
        }

        return d[a.Length, b.Length];
    }
}
