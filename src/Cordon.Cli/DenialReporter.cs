using System.Collections.Concurrent;
using Cordon.Policy;
using Cordon.Supervisor;
using Cordon.Terminal;

namespace Cordon.Cli;

/// <summary>
/// One line on stderr per denied resource (not per attempt), saying what was denied, who asked, and the flag that
/// would allow it; and one line per incident.
/// A denial the user chose (a --deny-* flag, a profile's deny, a "deny always" answer saved there) is not news and
/// is not reported.
/// </summary>
/// <param name="interactive">A person answers questions: their own "deny" needs no report, it is on screen already.</param>
public sealed class DenialReporter(TextWriter error, bool interactive = false) : IDecisionObserver
{
    private readonly ConcurrentDictionary<(AccessKind, string), byte> reported = new();
    private readonly Lock gate = new();
    private readonly List<string> deniedResources = [];
    private readonly HashSet<(AccessKind, string)> deniedSeen = [];
    private int deniedRequests;

    public int Denials => reported.Count;

    /// <summary>Every denied request of the run, whoever denied it (a rule, the default, a person).</summary>
    public int DeniedRequests => Volatile.Read(ref deniedRequests);

    public void OnDecision(Request request, Decision decision)
    {
        if (decision.Allowed || decision.Source == DecisionSource.Kernel)
        {
            return; // what the kernel refuses without cordon is not cordon's denial (the audit log still has it)
        }

        Interlocked.Increment(ref deniedRequests);
        lock (gate)
        {
            if (deniedSeen.Add((request.Kind, request.Resource)))
            {
                deniedResources.Add(Describe(request));
            }
        }

        if (decision.Source is DecisionSource.Flag or DecisionSource.Profile
            || (interactive && decision.Source == DecisionSource.Prompt)
            || !reported.TryAdd((request.Kind, request.Resource), 0))
        {
            return;
        }

        var who = request.Subject.Process;
        string what = Describe(request);
        string line = decision.Source switch
        {
            DecisionSource.Error or DecisionSource.Sandbox => $"cordon: denied {what} by {who.Name} (pid {who.Pid}): {decision.Rule}",
            DecisionSource.Guard => $"cordon: denied {what} by {who.Name} (pid {who.Pid}): guard: {decision.Rule}; to allow it: {Policy.Policy.SuggestFlag(request)}",
            _ => $"cordon: denied {what} by {who.Name} (pid {who.Pid}); to allow it: {Policy.Policy.SuggestFlag(request)}",
        };
        Write(line);
    }

    public void OnIncident(string message) => Write("cordon: " + message);

    /// <summary>
    /// The closing line of a run nobody answered questions in (CI, --no-prompt): how many requests were denied, for
    /// which resources (the first few), and the program's status, so that a log ends with what cordon did. Null when
    /// nothing was denied.
    /// </summary>
    public string? Summary(int status)
    {
        lock (gate)
        {
            if (deniedRequests == 0)
            {
                return null;
            }

            const int Shown = 3;
            var shown = string.Join(", ", deniedResources.Take(Shown));
            var more = deniedResources.Count > Shown ? $" and {deniedResources.Count - Shown} more" : "";
            var requests = deniedRequests == 1 ? "1 request" : $"{deniedRequests} requests";
            var resources = deniedResources.Count == 1 ? "1 resource" : $"{deniedResources.Count} resources";
            return Display.Escape($"cordon: denied {requests} for {resources}: {shown}{more}; the program's exit status was {status}");
        }
    }

    private void Write(string line)
    {
        lock (gate)
        {
            error.WriteLine(Display.Escape(line));
            error.Flush();
        }
    }

    public static string Describe(Request r)
    {
        string verb = r.Operation switch
        {
            Operation.Read => "read of",
            Operation.List => "listing",
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
        return r.Requested is { Length: > 0 } asked && asked != r.Resource
            ? $"{verb} {r.Resource} (asked as {asked})"
            : $"{verb} {r.Resource}";
    }
}
