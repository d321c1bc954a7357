namespace Cordon.Policy;

/// <summary>
/// The places in a home directory that hold credentials or shell start-up files. One list, shared by every answer
/// that could reach them: a folder offer (`f`) never contains one, "all reads" (`A`) never covers one, learn mode
/// keeps them exact and flags them, and "always" (`a`) on a folder that holds one covers that folder alone.
/// </summary>
public static class Sensitive
{
    /// <summary>Relative to the home directory.</summary>
    public static readonly IReadOnlyList<string> Places =
    [
        ".ssh", ".aws", ".gnupg", ".config/gh", ".npmrc", ".netrc", ".docker", ".kube", ".azure", ".config/gcloud",
        ".local/share/keyrings", ".password-store", ".mozilla", ".config/google-chrome", ".config/chromium",
        ".bashrc", ".bash_profile", ".profile", ".zshrc", ".zprofile", ".config/fish", ".pypirc", ".git-credentials",
        ".cargo/credentials", ".cargo/credentials.toml", ".config/git/credentials",
        // Build tools', databases' and cloud tools' stored passwords and tokens.
        ".m2/settings.xml", ".m2/settings-security.xml", ".gradle/gradle.properties", ".ivy2/.credentials",
        ".gem/credentials", ".composer/auth.json", ".config/composer/auth.json", ".pgpass", ".my.cnf", ".vault-token",
        ".terraform.d/credentials.tfrc.json", ".pulumi/credentials.json", ".config/hub", ".s3cfg", ".config/rclone",
        ".config/op", ".huggingface/token",
    ];

    /// <summary>True for paths at or inside one of the <see cref="Places"/> of <paramref name="home"/>.</summary>
    public static bool Contains(string? home, string path)
    {
        if (home is null || !path.StartsWith(home + "/", StringComparison.Ordinal))
        {
            return false;
        }

        var inHome = path[(home.Length + 1)..];
        foreach (var s in Places)
        {
            if (inHome == s || (inHome.Length > s.Length && inHome[s.Length] == '/' && inHome.StartsWith(s, StringComparison.Ordinal)))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// True when the tree at <paramref name="folder"/> holds a sensitive place, or is one: the home directory and
    /// everything above it, "~/.config" (for ~/.config/gh), "~/.local/share", ... A grant of such a folder's
    /// subtree would reach credentials.
    /// </summary>
    public static bool Reachable(string? home, string folder)
    {
        if (home is null)
        {
            return false;
        }

        if (Descriptor.InTree(folder, home) || Contains(home, folder))
        {
            return true;
        }

        if (!folder.StartsWith(home + "/", StringComparison.Ordinal))
        {
            return false;
        }

        var inHome = folder[(home.Length + 1)..];
        foreach (var s in Places)
        {
            if (s.Length > inHome.Length && s[inHome.Length] == '/' && s.StartsWith(inHome, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>True for "/" and the folders right below it (/opt, /var, /srv, /home, /tmp, ...): never offered whole.</summary>
    public static bool IsTopLevel(string path) => path == "/" || (path.StartsWith('/') && path.IndexOf('/', 1) < 0);
}

/// <summary>
/// Exactly one path, nothing below it: what "always" remembers for a folder it must not open (listing the home
/// directory is not reading every file in it). Written `only:PATH` in flags and profiles.
/// </summary>
public sealed record ExactPathDescriptor : Descriptor
{
    public const string Prefix = "only:";

    public ExactPathDescriptor(string path)
    {
        if (!path.StartsWith('/') || Glob.IsPattern(path))
        {
            throw new PolicyException($"\"{Prefix}{path}\": {Prefix} takes an absolute path without wildcards");
        }

        Path = path.Length > 1 ? path.TrimEnd('/') : path;
    }

    public string Path { get; }

    public override bool Matches(Request request) => request.Resource == Path;

    // Above the subtree rule for the same path: "only:~" and "~" together, the exact one decides ~ itself.
    public override int Specificity => (Path == "/" ? 1 : (Path.Count(c => c == '/') + 1)) * 4 + 1;

    public override string Text => Prefix + Path;

    public override Reach Within(string folder) => InTree(folder, Path) ? Reach.Some : Reach.None;
}

/// <summary>
/// Every path but the sensitive places of the home directory: what "all reads" (or writes, programs) at the prompt
/// means. A credentials place still gets its own question (or the verdict of a rule naming it).
/// </summary>
public sealed record AllButSensitiveDescriptor(string? Home) : Descriptor
{
    public override bool Matches(Request request) => !Sensitive.Contains(Home, request.Resource);

    public override int Specificity => 0;

    public override string Text => "";

    public override Reach Within(string folder) =>
        Sensitive.Contains(Home, folder) ? Reach.None : Sensitive.Reachable(Home, folder) ? Reach.Some : Reach.All;
}
