using Cordon.Policy;
using Cordon.Profiles;
using Cordon.Supervisor;

namespace Cordon.Cli;

/// <summary>Which profiles a run uses, and where its answers are saved.</summary>
/// <param name="SavePath">The active profile file ("always" and "folder" answers go there); null in learn mode.</param>
/// <param name="LearnPath">Learn mode's output file, or null.</param>
/// <param name="LearnBase">What learn mode starts from (the output file's current content).</param>
internal sealed record ChosenProfiles(IReadOnlyList<Rule> Rules, string? SavePath, string? LearnPath, Profile? LearnBase);

internal static class Profiles
{
    public const string ProjectProfile = ".cordon.yaml";

    public static ChosenProfiles Choose(ProfileStore store, string? profileArg, string programWord, string? learnArg, IPathResolver resolver, TextWriter error)
    {
        var rules = new List<Rule>();
        string? savePath = null;
        var learnPath = learnArg is null ? null : Path.GetFullPath(learnArg);
        if (profileArg is not null && store.PathOf(profileArg) == learnPath)
        {
            // `--learn p.yaml --profile p.yaml`: learning into the profile it starts from, which need not exist yet.
            profileArg = null;
        }
        else if (profileArg is not null)
        {
            var path = store.PathOf(profileArg);
            bool isFile = path != Path.Combine(store.ProfileDirectory, profileArg + ".yaml");
            if (isFile && !File.Exists(path))
            {
                throw new ProfileException($"{path}: no such profile file");
            }

            rules.AddRange(ProfileStore.Load(path, resolver, mayBeMissing: true).Rules(resolver));
            savePath = path;
        }
        else if (DefaultPath(store, programWord) is { } byProgram)
        {
            // One profile per program by default: `cordon run -- npm install` uses and grows the "npm" profile.
            rules.AddRange(ProfileStore.Load(byProgram, resolver, mayBeMissing: true).Rules(resolver));
            savePath = byProgram;
        }

        var project = Path.Combine(resolver.WorkingDirectory, ProjectProfile);
        if (File.Exists(project))
        {
            if (store.IsTrusted(project))
            {
                rules.AddRange(ProfileStore.Load(project, resolver, mayBeMissing: false).Rules(resolver));
            }
            else
            {
                error.WriteLine($"cordon: ignoring {ProjectProfile} in this directory: a repository's own profile is used only after you read it and run 'cordon profile trust {ProjectProfile}'");
            }
        }

        if (learnPath is null)
        {
            return new ChosenProfiles(rules, savePath, null, null);
        }

        var start = ProfileStore.Load(learnPath, resolver, mayBeMissing: true);
        rules.AddRange(start.Rules(resolver));
        return new ChosenProfiles(rules, null, learnPath, start);
    }

    private static string? DefaultPath(ProfileStore store, string programWord)
    {
        try
        {
            return store.PathOf(Path.GetFileName(programWord));
        }
        catch (ProfileException)
        {
            return null; // a program name that cannot name a profile (".hidden") simply has none
        }
    }

    /// <summary>The sandbox may never change cordon's own configuration (profiles, trusted projects), whatever is granted.</summary>
    public static IEnumerable<Rule> ProtectConfiguration(ProfileStore store, IPathResolver resolver)
    {
        // Rules match canonical paths: through a symlinked ~/.config the configuration lives somewhere else. The
        // directory is created so that it can be resolved (and so that nothing inside can plant it first).
        try
        {
            // Under sudo as the user, like every later save into it: a directory of root's would refuse them.
            AsSudoUser.Write(store.ConfigDirectory, () => Directory.CreateDirectory(store.ConfigDirectory, ProfileStore.PrivateDirectory));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // an unwritable home: the literal path is protected below, and there is nothing to save into anyway
        }

        const string why = "cordon's own configuration is never writable from the sandbox";
        var paths = new[] { store.ConfigDirectory, resolver.Canonicalize(store.ConfigDirectory) }.Distinct(StringComparer.Ordinal);
        return paths.Select(p => new Rule(AccessKind.Write, Verdict.Deny, new PathDescriptor(p), DecisionSource.Base, why)).ToList();
    }

    /// <summary>Saves a remembered answer into the active profile. "All of this kind" answers last for the run only.</summary>
    public static void SaveAnswer(string path, Rule rule, IPathResolver resolver, TextWriter messages)
    {
        if (rule.Source != DecisionSource.Prompt || rule.Descriptor is AnyDescriptor or AllButSensitiveDescriptor)
        {
            return;
        }

        try
        {
            AsSudoUser.Write(path, () => ProfileStore.Save(path, [new ProfileEntry(rule.Kind, rule.Verdict, rule.Descriptor.Text)], resolver));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ProfileException)
        {
            messages.WriteLine($"cordon: could not save the answer to {path}: {e.Message} (it holds for this run)");
        }
    }
}
