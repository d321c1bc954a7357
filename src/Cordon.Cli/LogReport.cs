using System.Globalization;
using Cordon.Terminal;

namespace Cordon.Cli;

/// <summary>
/// What `cordon log FILE` prints. A log of one `npm install` holds thousands of allowed opens; a person reading it
/// wants the totals, then every denial, then what allowed the rest (by rule, not by file), in the terminal's width.
/// `--all` lists every resource; `--why` explains one.
/// </summary>
public static class LogReport
{
    public static IEnumerable<string> Summary(IReadOnlyList<AuditRecord> records, int skipped, int width, bool all)
    {
        width = Math.Max(width, 40);
        int allowed = records.Count(r => r.Verdict == "allow");
        var denied = records.Where(r => r.Verdict != "allow").ToList();
        var deniedGroups = denied.GroupBy(r => (r.Perm, r.Value)).OrderBy(g => g.Key.Perm, StringComparer.Ordinal).ThenByDescending(g => g.Count()).ThenBy(g => g.Key.Value, StringComparer.Ordinal).ToList();
        string unreadable = skipped > 0 ? $"; {Count(skipped)} unreadable line(s) skipped" : "";
        yield return $"{Count(records.Count)} decision{(records.Count == 1 ? "" : "s")}: {Count(allowed)} allowed, {Count(denied.Count)} denied" +
            (denied.Count > 0 ? $" ({Count(deniedGroups.Count)} resource{(deniedGroups.Count == 1 ? "" : "s")})" : "") + unreadable;

        if (all)
        {
            yield return "";
            var every = records.GroupBy(r => (r.Verdict, r.Perm, r.Value))
                .OrderBy(g => g.Key.Verdict == "allow" ? 1 : 0).ThenBy(g => g.Key.Perm, StringComparer.Ordinal).ThenByDescending(g => g.Count()).ThenBy(g => g.Key.Value, StringComparer.Ordinal)
                .Select(g => (Head: $"{g.Key.Verdict,-5} {g.Key.Perm,-5}", g.Count(), g.Key.Value, Decided(g.First())))
                .ToList();
            foreach (var line in Rows(every, width))
            {
                yield return line;
            }

            yield break;
        }

        if (deniedGroups.Count > 0)
        {
            yield return "";
            yield return "denied:";
            foreach (var line in Rows(deniedGroups.Select(g => (Head: $"  {g.Key.Perm,-5}", g.Count(), g.Key.Value, Decided(g.First()))).ToList(), width))
            {
                yield return line;
            }
        }

        var byRule = records.Where(r => r.Verdict == "allow").GroupBy(r => (r.Perm, Rule: Decided(r)))
            .OrderByDescending(g => g.Count()).ThenBy(g => g.Key.Perm, StringComparer.Ordinal).ThenBy(g => g.Key.Rule, StringComparer.Ordinal).ToList();
        if (byRule.Count > 0)
        {
            yield return "";
            yield return "allowed, by rule:";
            int countWidth = byRule.Max(g => Count(g.Count()).Length);
            foreach (var g in byRule)
            {
                string head = $"  {Count(g.Count()).PadLeft(countWidth)}  {g.Key.Perm,-5}  ";
                yield return head + Display.Short(g.Key.Rule, Math.Max(10, width - head.Length - 1));
            }
        }

        yield return "";
        yield return "cordon log FILE --all lists every resource; --why RESOURCE explains one";
    }

    /// <summary>"source: rule" as a person reads it; rules that already name their source (base: ...) are not prefixed twice.</summary>
    public static string Decided(AuditRecord r) =>
        r.Rule.StartsWith(r.Source + ":", StringComparison.Ordinal) ? r.Rule : $"{r.Source}: {r.Rule}";

    private static string Count(int n) => n.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>Rows of head, count, resource, decided-by; the resource and the rule share what the width leaves.</summary>
    private static IEnumerable<string> Rows(List<(string Head, int Count, string Resource, string Decided)> rows, int width)
    {
        if (rows.Count == 0)
        {
            yield break;
        }

        int countWidth = rows.Max(r => Count(r.Count).Length);
        int headWidth = rows.Max(r => r.Head.Length);
        int room = Math.Max(20, width - headWidth - countWidth - 6);
        int resourceWidth = Math.Min(rows.Max(r => Display.Escape(r.Resource).Length), Math.Max(12, room * 3 / 5));
        int decidedWidth = Math.Max(8, room - resourceWidth);
        foreach (var (head, count, resource, decided) in rows)
        {
            yield return $"{head.PadRight(headWidth)} {Count(count).PadLeft(countWidth)}  {Display.Short(resource, resourceWidth).PadRight(resourceWidth)}  {Display.Short(decided, decidedWidth)}".TrimEnd();
        }
    }

    /// <summary>
    /// The records `--why QUERY` explains. A path may be relative (to <paramref name="cwd"/>) or start with ~; a
    /// folder explains everything below it when nothing matches it exactly. A host name, an address, with or without
    /// the port, matches the network records that name it ("registry.npmjs.org:443 (104.16.1.34)").
    /// </summary>
    public static List<AuditRecord> Why(IReadOnlyList<AuditRecord> records, string query, string cwd, string home)
    {
        var exact = records.Where(r => r.Value == query || r.Requested == query).ToList();
        if (exact.Count > 0)
        {
            return exact;
        }

        var hosts = records.Where(r => r.Perm == "net" && NetMatches(r.Value, query)).ToList();
        if (hosts.Count > 0)
        {
            return hosts;
        }

        if (query.StartsWith("unix:", StringComparison.Ordinal) || query.Length == 0)
        {
            return [];
        }

        string expanded = query == "~" ? home : query.StartsWith("~/", StringComparison.Ordinal) ? Path.Combine(home, query[2..]) : query;
        string full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(expanded, cwd));
        var paths = records.Where(r => r.Perm != "net" && r.Perm != "env" && (r.Value == full || r.Requested == full)).ToList();
        if (paths.Count > 0)
        {
            return paths;
        }

        string below = full == "/" ? "/" : full + "/";
        return records.Where(r => r.Perm != "net" && r.Perm != "env" && r.Value.StartsWith(below, StringComparison.Ordinal)).ToList();
    }

    /// <summary>Whether a network record's value ("a.test, b.test:8080 (127.0.0.4)", "1.2.3.4:443", "[::1]:53") names <paramref name="query"/>.</summary>
    public static bool NetMatches(string value, string query)
    {
        string names = value;
        string? address = null;
        int open = value.LastIndexOf(" (", StringComparison.Ordinal);
        if (open > 0 && value.EndsWith(')'))
        {
            names = value[..open];
            address = value[(open + 2)..^1];
        }

        string port = "";
        int colon = names.LastIndexOf(':');
        if (colon > 0 && names[(colon + 1)..].All(char.IsAsciiDigit) && (names[0] != '[' || names[colon - 1] == ']'))
        {
            port = names[(colon + 1)..];
            names = names[..colon];
        }

        var hosts = names.Split(", ").ToList();
        if (address is not null)
        {
            hosts.Add(address);
        }

        foreach (var host in hosts)
        {
            var bare = host.Trim('[', ']');
            if (string.Equals(query, host, StringComparison.OrdinalIgnoreCase) || string.Equals(query, bare, StringComparison.OrdinalIgnoreCase)
                || (port.Length > 0 && (string.Equals(query, $"{host}:{port}", StringComparison.OrdinalIgnoreCase) || string.Equals(query, $"[{bare}]:{port}", StringComparison.OrdinalIgnoreCase))))
            {
                return true;
            }
        }

        return false;
    }
}
