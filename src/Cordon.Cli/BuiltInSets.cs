using System.Collections.Concurrent;
using Cordon.Policy;
using Cordon.Profiles;
using Cordon.Supervisor;

namespace Cordon.Cli;

/// <summary>
/// The built-in sets (git, node, python, ...) applied by default: a set applies from the moment the run starts its
/// tool (the program cordon runs, or any program run inside the sandbox whose file is that tool: an agent's shell
/// running git brings the git set), for the rest of the run. A set grants caches and configuration, never a
/// credentials place (<see cref="BuiltIn.Safe"/>); its rules are nobody's answer and are never saved.
/// The exec is decided before the new program runs, and the rules are in place before the answer goes back, so
/// the tool's first open already sees them.
/// </summary>
internal sealed class BuiltInSets(Policy.Policy policy, IPathResolver resolver) : IDecisionObserver
{
    private readonly ConcurrentDictionary<string, string> applied = new(StringComparer.Ordinal);

    // Names already looked up: a build runs cc, cc1 and as hundreds of times, and their sets are known after the first.
    private readonly ConcurrentDictionary<string, byte> seen = new(StringComparer.Ordinal);
    private readonly Lock gate = new();

    /// <summary>The sets applied so far, with the tool that brought each.</summary>
    public IReadOnlyDictionary<string, string> Applied => applied;

    /// <summary>Applies the sets of a program about to run (its canonical path, and the name it was run by).</summary>
    public void ProgramRuns(string path, string? requested)
    {
        foreach (var name in new[] { Path.GetFileName(path), requested is null ? null : Path.GetFileName(requested) }.OfType<string>().Distinct())
        {
            if (seen.ContainsKey(name))
            {
                continue; // its sets are in place: marked only once they are
            }

            // One name at a time: an exec of the same tool on another thread must not be answered before its set
            // is in place.
            lock (gate)
            {
                foreach (var set in BuiltIn.For(name))
                {
                    if (applied.TryAdd(set, name))
                    {
                        policy.Apply(BuiltIn.Grants(set, name, resolver));
                    }
                }

                seen.TryAdd(name, 0);
            }
        }
    }

    public void OnDecision(Request request, Decision decision)
    {
        if (request.Kind == AccessKind.Run && decision.Allowed)
        {
            ProgramRuns(request.Resource, request.Requested);
        }
    }

    public void OnIncident(string message)
    {
    }
}
