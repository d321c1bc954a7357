using Cordon.Policy;
using Cordon.Profiles;
using Cordon.Supervisor;

namespace Cordon.Cli;

/// <summary>Which profiles a run uses, and where its answers are saved.</summary>
/// <param name="SavePath">The active profile file ("always" and "folder" answers go there); null in learn mode.</param>
/// <param name="LearnPath">Learn mode's output file, or null.</param>
/// <param name="LearnBase">What learn mode starts from (the output file's current content).</param>
/// <param name="SaveProject">The project whose profile <paramref name="SavePath"/> is (answers are saved portably, ./ and ~/), or null.</param>
internal sealed record ChosenProfiles(IReadOnlyList<Rule> Rules, string? SavePath, string? LearnPath, Profile? LearnBase, Project? SaveProject = null);

internal static class Profiles
{
    public const string ProjectProfile = ".cordon.yaml";

    /// <summary>
    /// The profiles of a run: <c>--profile</c> (answers go there), or else the project's profile in cordon's
    /// configuration (answers go there) and the profile named after the program, which is still read (profiles of
    /// earlier versions keep working) but no longer grows; then the project's own <c>.cordon.yaml</c> once trusted;
    /// then learn mode's file.
    /// </summary>
    public static ChosenProfiles Choose(ProfileStore store, string? profileArg, string programWord, string? learnArg, IPathResolver resolver, TextWriter error)
    {
        var rules = new List<Rule>();
        string? savePath = null;
        Project? saveProject = null;
        var project = Project.Find(resolver.WorkingDirectory, resolver.Home, p => File.Exists(p) || Directory.Exists(p));
        var inProject = new RootedResolver(resolver, project.Root);
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

            if (!isFile && !File.Exists(path))
            {
                // A new name is how a profile starts (answers saved go there), and also how a typo looks: say which.
                error.WriteLine($"cordon: profile {profileArg} does not exist yet ({path}): this run has no rules from it");
            }

            rules.AddRange(ProfileStore.Load(path, resolver, mayBeMissing: true).Rules(resolver));
            savePath = path;
        }
        else
        {
            // Answers belong to the project, whichever program asked: npm's answers serve npx and node.
            var projectFile = project.ProfilePath(store);
            rules.AddRange(ProfileStore.Load(projectFile, inProject, mayBeMissing: true).Rules(inProject));
            savePath = projectFile;
            saveProject = project;
            if (DefaultPath(store, programWord) is { } byProgram)
            {
                rules.AddRange(ProfileStore.Load(byProgram, resolver, mayBeMissing: true).Rules(resolver));
            }
        }

        var shipped = Path.Combine(project.Root, ProjectProfile);
        if (File.Exists(shipped))
        {
            if (store.IsTrusted(shipped))
            {
                rules.AddRange(ProfileStore.Load(shipped, inProject, mayBeMissing: false).Rules(inProject));
            }
            else
            {
                var shown = project.Root == resolver.WorkingDirectory ? ProjectProfile : shipped;
                error.WriteLine($"cordon: ignoring {shown}: a repository's own profile is used only after you read it and run 'cordon profile trust {shown}'");
            }
        }

        if (learnPath is null)
        {
            return new ChosenProfiles(rules, savePath, null, null, saveProject);
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
        Rule Protect(string path) => new(AccessKind.Write, Verdict.Deny, new PathDescriptor(path), DecisionSource.Base, why);
        string canonical = resolver.Canonicalize(store.ConfigDirectory);
        return canonical == store.ConfigDirectory ? [Protect(canonical)] : [Protect(store.ConfigDirectory), Protect(canonical)];
    }

    /// <summary>Saves a remembered answer into the active profile. "All of this kind" answers last for the run only.</summary>
    public static void SaveAnswer(ChosenProfiles chosen, Rule rule, IPathResolver resolver, TextWriter messages)
    {
        if (chosen.SavePath is not { } path || rule.Source != DecisionSource.Prompt || rule.Descriptor is AnyDescriptor or AllButSensitiveDescriptor)
        {
            return;
        }

        // A project's answers are written ./ and ~/ (as learn mode writes them), so that the file reads as the
        // project, and loads back against the project's root from any of its folders.
        var project = chosen.SaveProject;
        var value = project is not null && rule.Kind is AccessKind.Read or AccessKind.Write or AccessKind.Run
            ? Portable.Path(rule.Descriptor.Text, resolver.Home, project.Root)
            : rule.Descriptor.Text;
        var loadAs = project is null ? resolver : new RootedResolver(resolver, project.Root);
        try
        {
            AsSudoUser.Write(path, () => ProfileStore.Save(path, [new ProfileEntry(rule.Kind, rule.Verdict, value)], loadAs, project?.Header));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ProfileException)
        {
            messages.WriteLine($"cordon: could not save the answer to {path}: {e.Message} (it holds for this run)");
        }
    }
}
