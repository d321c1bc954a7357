using System.Collections.Concurrent;
using Cordon.Policy;
using Cordon.Supervisor;

namespace Cordon.Cli;

/// <summary>
/// One line on stderr per denied resource (not per attempt), saying what was denied, who asked, and the flag that
/// would allow it; and one line per incident.
/// </summary>
public sealed class DenialReporter(TextWriter error) : IDecisionObserver
{
    private readonly ConcurrentDictionary<(AccessKind, string), byte> reported = new();
    private readonly Lock gate = new();

    public int Denials => reported.Count;

    public void OnDecision(Request request, Decision decision)
    {
        if (decision.Allowed || !reported.TryAdd((request.Kind, request.Resource), 0))
        {
            return;
        }

        var who = request.Subject.Process;
        string what = Describe(request);
        string line = decision.Source == DecisionSource.Error
            ? $"cordon: denied {what} by {who.Name} (pid {who.Pid}): {decision.Rule}"
            : $"cordon: denied {what} by {who.Name} (pid {who.Pid}); to allow it: {Policy.Policy.SuggestFlag(request)}";
        Write(line);
    }

    public void OnIncident(string message) => Write("cordon: " + message);

    private void Write(string line)
    {
        lock (gate)
        {
            error.WriteLine(Terminal.Escape(line));
            error.Flush();
        }
    }

    public static string Describe(Request r)
    {
        string verb = r.Operation switch
        {
            Operation.Read => "read of",
            Operation.Write => "write to",
            Operation.Create => "creating",
            Operation.Delete => "deleting",
            Operation.Rename => "renaming",
            Operation.Link => "linking",
            Operation.Attributes => "changing attributes of",
            Operation.Exec => "running",
            Operation.Connect => "connecting to",
            Operation.Bind => "binding",
            Operation.Listen => "listening on",
            Operation.Send => "sending to",
            _ => r.Operation.ToString().ToLowerInvariant(),
        };
        return r.Requested is { } asked && asked != r.Resource
            ? $"{verb} {r.Resource} (asked as {asked})"
            : $"{verb} {r.Resource}";
    }
}

/// <summary>Text from the sandboxed program shown on cordon's terminal: escape and control characters made visible.</summary>
public static class Terminal
{
    public static string Escape(string s)
    {
        var sb = new System.Text.StringBuilder(s.Length);
        foreach (var ch in s)
        {
            if (ch < 0x20 || ch == 0x7f || (ch >= 0x80 && ch < 0xa0) || IsBidiControl(ch))
            {
                sb.Append(ch switch
                {
                    '\n' => "\\n",
                    '\t' => "\\t",
                    '\r' => "\\r",
                    '\x1b' => "\\e",
                    _ => $"\\u{(int)ch:x4}",
                });
            }
            else
            {
                sb.Append(ch);
            }
        }

        return sb.ToString();
    }

    // Bidirectional overrides and isolates can reorder what a person reads (CVE-2021-42574, "Trojan Source").
    private static bool IsBidiControl(char ch) =>
        ch is '\u061c' or '\u200e' or '\u200f' or (>= '\u202a' and <= '\u202e') or (>= '\u2066' and <= '\u2069');
}
