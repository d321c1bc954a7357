using System.Text;
using Cordon.Policy;

namespace Cordon.Profiles;

/// <summary>
/// The project a run belongs to: the nearest directory, from the one cordon was started in upwards, that holds
/// <c>.cordon.yaml</c> or <c>.git</c>; else the directory cordon was started in. The search stops below the home
/// directory (a home kept in git is not one project of everything in it) and never takes "/".
/// </summary>
/// <param name="Root">The project's canonical path.</param>
/// <param name="Marker">What made it the project (".cordon.yaml", ".git"), or null: the directory cordon was started in.</param>
public sealed record Project(string Root, string? Marker)
{
    public static readonly string[] Markers = [".cordon.yaml", ".git"];

    /// <summary>Finds the project of <paramref name="workingDirectory"/>; <paramref name="exists"/> says whether a path exists.</summary>
    public static Project Find(string workingDirectory, string home, Func<string, bool> exists)
    {
        home = home.TrimEnd('/');
        for (var dir = workingDirectory; dir is { Length: > 1 }; dir = Parent(dir))
        {
            if (home.Length > 0 && Descriptor.InTree(dir, home))
            {
                break; // at the home or above it
            }

            foreach (var marker in Markers)
            {
                if (exists(dir + "/" + marker))
                {
                    return new Project(dir, marker);
                }
            }
        }

        return new Project(workingDirectory, null);
    }

    /// <summary>One line saying what the project is and why.</summary>
    public string Describe() => Marker is null ? $"{Root} (the directory cordon was started in)" : $"{Root} (it holds {Marker})";

    /// <summary>
    /// The file in cordon's configuration that keeps this project's answers: projects/NAME-HASH.yaml, NAME the folder's
    /// name (for people listing the directory) and HASH from the canonical path (two checkouts named alike differ).
    /// The hash is FNV-1a, not a cryptographic one: SHA-256 in .NET needs OpenSSL's libssl, which a run must not
    /// depend on (a minimal system or container has none, and every run would fail). So the hash only picks the
    /// name; the file's header says whose it is, and a file that names another project (a collision, chance or
    /// crafted) is never used: the next name (-2, -3, ...) is.
    /// </summary>
    public string ProfilePath(ProfileStore store)
    {
        var name = Path.GetFileName(Root);
        var safe = new string(name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_').ToArray()).TrimStart('.');
        var stem = Path.Combine(store.ProjectDirectory, $"{(safe.Length > 0 ? safe : "root")}-{Fnv1a(Root):x16}");
        for (int i = 1; ; i++)
        {
            var path = i == 1 ? stem + ".yaml" : $"{stem}-{i}.yaml";
            if (!Path.Exists(path))
            {
                return path; // free (checked first: an exception per run costs start-up time)
            }

            string? owner;
            try
            {
                owner = RootOf(File.ReadAllText(path));
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
                return path; // free: this project's from its first save
            }

            // A file without a header is one the user edited that way (only cordon and the user write here): ours.
            if (owner is null || owner == Root)
            {
                return path;
            }
        }
    }

    private static ulong Fnv1a(string text)
    {
        ulong hash = 14695981039346656037;
        foreach (var b in Encoding.UTF8.GetBytes(text))
        {
            hash = (hash ^ b) * 1099511628211;
        }

        return hash;
    }

    /// <summary>The header the project's profile file is written with (its second line names the project, see <see cref="RootOf"/>).</summary>
    public string Header => $"cordon: answers given in this project (\"always\", \"folder\"; comments are not kept)\n{RootLine}{Root}";

    private const string RootLine = "project: ";

    /// <summary>The project a project profile file was written for, from its header; null when it has none.</summary>
    public static string? RootOf(string profileText) =>
        profileText.Split('\n').Take(3).FirstOrDefault(l => l.StartsWith("# " + RootLine, StringComparison.Ordinal)) is { } line
            ? line[(2 + RootLine.Length)..]
            : null;

    private static string? Parent(string dir)
    {
        int slash = dir.LastIndexOf('/');
        return slash <= 0 ? null : dir[..slash];
    }
}

/// <summary>Resolves as <paramref name="inner"/> does, but relative paths against <paramref name="workingDirectory"/> (a project's root).</summary>
public sealed class RootedResolver(IPathResolver inner, string workingDirectory) : IPathResolver
{
    public string Home => inner.Home;

    public string WorkingDirectory => workingDirectory;

    public string Canonicalize(string absolutePath) => inner.Canonicalize(absolutePath);

    public string? FindProgram(string name) => inner.FindProgram(name);
}
