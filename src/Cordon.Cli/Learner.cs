using System.Collections.Concurrent;
using Cordon.Policy;
using Cordon.Profiles;
using Cordon.Supervisor;

namespace Cordon.Cli;

/// <summary>
/// Learn mode: every request no rule decides is allowed and remembered; at the end a minimal profile that would
/// have let the run through is written. Paths are merged into folders where that is safe, never into the home
/// directory, "/", or a place that holds credentials or shell start-up files: those stay exact and are flagged.
/// The profile is self-contained: what the rules the run started with (the program's profile, --profile, flags)
/// decided is learned too, so that the file alone replays the run; and portable: paths in the project are written
/// "./...", paths in the home "~/...".
/// </summary>
internal sealed class Learner(string path, Profile start, IPathResolver resolver, IReadOnlyList<Rule> envRules) : IPrompter, IDecisionObserver
{
    private readonly ConcurrentDictionary<(AccessKind Kind, string Resource), (Request Request, string? Folder)> seen = new();
    private readonly ConcurrentDictionary<(AccessKind Kind, string Resource), Request> denied = new();
    private readonly HashSet<object> startRules = new(ReferenceEqualityComparer.Instance);
    private Policy.Policy? policy;

    public void Attach(Policy.Policy p)
    {
        policy = p;
        foreach (var rule in p.UserRules.Where(r => r.Source is DecisionSource.Profile or DecisionSource.Flag))
        {
            startRules.Add(rule.Decision);
        }
    }

    public Task<PromptAnswer> AskAsync(PromptQuestion question, CancellationToken cancellationToken)
    {
        seen.TryAdd((question.Request.Kind, question.Request.Resource), (question.Request, question.SuggestedFolder));
        return Task.FromResult(PromptAnswer.AllowOnce);
    }

    /// <summary>Requests a starting rule decided never reach <see cref="AskAsync"/>: learned here instead.</summary>
    public void OnDecision(Request request, Decision decision)
    {
        // A built-in set is learned like a starting rule: the file must replay the run with --no-builtins too.
        if (!startRules.Contains(decision) && decision.Source != DecisionSource.BuiltIn)
        {
            return;
        }

        var key = (request.Kind, request.Resource);
        if (decision.Allowed)
        {
            seen.TryAdd(key, (request, policy?.SuggestFolder(request)));
        }
        else
        {
            denied.TryAdd(key, request);
        }
    }

    public void OnIncident(string message)
    {
    }

    /// <summary>The entries learned: (entry, sensitive) pairs, folders merged.</summary>
    public List<(ProfileEntry Entry, bool Sensitive)> Learned()
    {
        var result = new List<(ProfileEntry, bool)>();
        foreach (var kind in new[] { AccessKind.Read, AccessKind.Write })
        {
            var exact = new List<(string Path, bool Sensitive)>();
            var paths = new HashSet<string>(StringComparer.Ordinal);
            foreach (var ((k, resource), (request, folder)) in seen)
            {
                if (k != kind)
                {
                    continue;
                }

                // What was seen and nothing below it: a listing of the home must not become "~", nor one of ~/.ssh "~/.ssh".
                bool sensitive = policy?.IsSensitive(resource, kind) == true;
                if (sensitive || (folder is null && (request.Operation == Operation.List || policy?.SafeToGrant(resource) == false)))
                {
                    exact.Add((ExactPathDescriptor.Prefix + resource, sensitive));
                }
                else
                {
                    paths.Add(folder ?? resource);
                }
            }

            foreach (var p in FolderMerge.Merge(paths, SafeFolder))
            {
                result.Add((new ProfileEntry(kind, Verdict.Allow, p), false));
            }

            foreach (var (p, sensitive) in exact.Distinct().OrderBy(e => e.Path, StringComparer.Ordinal))
            {
                result.Add((new ProfileEntry(kind, Verdict.Allow, p), sensitive));
            }
        }

        var exactSeen = new HashSet<(AccessKind, string)>(); // two DNS servers are both "dns"
        foreach (var ((kind, _), (request, _)) in seen.OrderBy(e => e.Key.Resource, StringComparer.Ordinal))
        {
            if (kind is AccessKind.Run or AccessKind.Net && Policy.Policy.Exact(request).Text is var exact && exactSeen.Add((kind, exact)))
            {
                result.Add((new ProfileEntry(kind, Verdict.Allow, exact), false));
            }
        }

        foreach (var rule in envRules.Where(r => r.Source is DecisionSource.Profile or DecisionSource.Flag))
        {
            result.Add((new ProfileEntry(AccessKind.Env, rule.Verdict, rule.Descriptor.Text), false));
        }

        foreach (var (_, request) in denied.OrderBy(e => e.Key.Resource, StringComparer.Ordinal))
        {
            result.Add((new ProfileEntry(request.Kind, Verdict.Deny, Policy.Policy.Exact(request).Text), false));
        }

        var home = resolver.Canonicalize(resolver.Home);
        var project = resolver.Canonicalize(resolver.WorkingDirectory);
        return result
            .Select(r => r.Item1.Kind is AccessKind.Read or AccessKind.Write or AccessKind.Run
                ? (r.Item1 with { Value = Portable.Path(r.Item1.Value, home, project) }, r.Item2)
                : r)
            .ToList();
    }

    private bool SafeFolder(string folder)
    {
        var home = resolver.Home.TrimEnd('/');
        int depth = folder.Count(c => c == '/');
        return depth >= 2
            && !(home == folder || home.StartsWith(folder + "/", StringComparison.Ordinal))
            && policy?.IsSensitive(folder) != true;
    }

    /// <summary>Writes the profile (merged into what the file held) and prints what was added.</summary>
    public void Write(TextWriter error)
    {
        var learned = Learned();
        var profile = start;
        var added = new List<(ProfileEntry, bool)>();
        foreach (var (entry, sensitive) in learned)
        {
            var next = profile.With(entry);
            if (!ReferenceEquals(next, profile))
            {
                added.Add((entry, sensitive));
                profile = next;
            }
        }

        AsSudoUser.Write(path, () => ProfileStore.Save(path, added.Select(a => a.Item1), resolver));
        error.WriteLine($"cordon: learned {added.Count} rule(s) into {path}{(added.Count == 0 ? " (nothing new)" : ":")}");
        foreach (var (e, sensitive) in added)
        {
            error.WriteLine($"  + {Profile.Kinds[(int)e.Kind]} {e.Verdict.ToString().ToLowerInvariant()} {Cordon.Terminal.Display.Escape(e.Value)}{(sensitive ? "   <- SENSITIVE: kept exact; check that the program should have it" : "")}");
        }
    }
}
