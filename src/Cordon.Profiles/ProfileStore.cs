using Cordon.Policy;

namespace Cordon.Profiles;

/// <summary>
/// Where profiles live and how they are saved: $XDG_CONFIG_HOME/cordon/profiles/NAME.yaml (~/.config when unset).
/// Saves never tear a file and never lose another run's update: an exclusive lock on a sidecar file, re-read,
/// merge, write a temporary file in the same directory, fsync, rename over the old one.
/// </summary>
public sealed class ProfileStore(string configDirectory)
{
    public string ConfigDirectory { get; } = configDirectory;

    public string ProfileDirectory => Path.Combine(ConfigDirectory, "profiles");

    /// <summary>Where each project's answers are kept (see <see cref="Project.ProfilePath"/>).</summary>
    public string ProjectDirectory => Path.Combine(ConfigDirectory, "projects");

    private string TrustFile => Path.Combine(ConfigDirectory, "trusted-projects");

    /// <summary>
    /// cordon's own files (profiles and their lock files, trusted projects, learned profiles, the audit log) are the
    /// user's alone: created 0600, in directories created 0700, whatever the process umask. That matters: the
    /// seccomp engine runs with umask 0 (files it creates for the program get the program's umask), and a profile
    /// saved during a run was world-writable before.
    /// </summary>
    public const UnixFileMode PrivateFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <inheritdoc cref="PrivateFile"/>
    public const UnixFileMode PrivateDirectory = PrivateFile | UnixFileMode.UserExecute;

    /// <summary>Opens or creates one of cordon's own files (<see cref="PrivateFile"/>).</summary>
    public static FileStream OpenPrivate(string path, FileMode mode, FileAccess access, FileShare share, int bufferSize = 4096) =>
        new(path, new FileStreamOptions { Mode = mode, Access = access, Share = share, BufferSize = bufferSize, UnixCreateMode = PrivateFile });

    /// <summary>The store of the current user: $XDG_CONFIG_HOME/cordon, or ~/.config/cordon.</summary>
    public static ProfileStore ForUser(string home)
    {
        var xdg = Environment.GetEnvironmentVariable("XDG_CONFIG_HOME");
        var root = !string.IsNullOrEmpty(xdg) && Path.IsPathRooted(xdg) ? xdg : Path.Combine(home, ".config");
        return new ProfileStore(Path.Combine(root, "cordon"));
    }

    /// <summary>A name or a file: a value with a '/' or ending in .yaml/.yml is a file, anything else a name in the store.</summary>
    public string PathOf(string nameOrFile)
    {
        if (nameOrFile.Contains('/', StringComparison.Ordinal) || nameOrFile.EndsWith(".yaml", StringComparison.Ordinal) || nameOrFile.EndsWith(".yml", StringComparison.Ordinal))
        {
            return Path.GetFullPath(nameOrFile);
        }

        if (nameOrFile.Length == 0 || nameOrFile.StartsWith('.') || nameOrFile.Any(c => char.IsControl(c) || c == '\\'))
        {
            throw new ProfileException($"\"{nameOrFile}\" is not a profile name (letters, digits, '-', '_', '.')");
        }

        return Path.Combine(ProfileDirectory, nameOrFile + ".yaml");
    }

    public static string NameOf(string path) => Path.GetFileNameWithoutExtension(path);

    /// <summary>Loads a profile file; a missing file is an empty profile when <paramref name="mayBeMissing"/>.</summary>
    public static Profile Load(string path, IPathResolver resolver, bool mayBeMissing)
    {
        // The usual case (no such profile) without an exception: a first exception costs a native build about
        // half a millisecond of start-up. The catches below still cover a file that goes away in between.
        if (mayBeMissing && !Path.Exists(path))
        {
            return Profile.Empty(NameOf(path));
        }

        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (FileNotFoundException) when (mayBeMissing)
        {
            return Profile.Empty(NameOf(path));
        }
        catch (DirectoryNotFoundException) when (mayBeMissing)
        {
            return Profile.Empty(NameOf(path));
        }
        catch (IOException e)
        {
            throw new ProfileException($"{path}: {e.Message}");
        }
        catch (UnauthorizedAccessException e)
        {
            throw new ProfileException($"{path}: {e.Message}");
        }

        return Profile.Parse(text, NameOf(path), path, resolver);
    }

    /// <summary>Adds entries to the profile at <paramref name="path"/>, safely against crashes and concurrent saves.</summary>
    public static void Save(string path, IEnumerable<ProfileEntry> entries, IPathResolver resolver, string? header = null)
    {
        var dir = Path.GetDirectoryName(path)!;
        Directory.CreateDirectory(dir, PrivateDirectory);
        using var lockFile = Lock(path + ".lock");
        var current = Load(path, resolver, mayBeMissing: true);
        var updated = current;
        foreach (var e in entries)
        {
            updated = updated.With(e);
        }

        if (ReferenceEquals(updated, current) && File.Exists(path))
        {
            return;
        }

        var temp = Path.Combine(dir, $".{Path.GetFileName(path)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var fs = OpenPrivate(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                var bytes = System.Text.Encoding.UTF8.GetBytes(updated.Render(header ?? $"cordon profile \"{updated.Name}\" (answers are added here; comments are not kept)"));
                fs.Write(bytes);
                fs.Flush(flushToDisk: true);
            }

            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
        }
    }

    /// <summary>An exclusive advisory lock (flock) on <paramref name="lockPath"/>, waited for up to 30 s.</summary>
    private static FileStream Lock(string lockPath)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            try
            {
                // On Unix, FileShare.None takes flock(LOCK_EX | LOCK_NB) on the descriptor.
                return OpenPrivate(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                Thread.Sleep(Random.Shared.Next(5, 25));
            }
        }
    }

    public IReadOnlyList<string> List() =>
        Directory.Exists(ProfileDirectory)
            ? Directory.GetFiles(ProfileDirectory, "*.yaml").Select(NameOf).Order(StringComparer.Ordinal).ToList()
            : [];

    /// <summary>The project profiles kept in the store: (project root from the file's header, file).</summary>
    public IReadOnlyList<(string Root, string File)> ListProjects() =>
        Directory.Exists(ProjectDirectory)
            ? Directory.GetFiles(ProjectDirectory, "*.yaml")
                .Select(f => (Root: Project.RootOf(File.ReadAllText(f)) ?? "?", File: f))
                .OrderBy(p => p.Root, StringComparer.Ordinal)
                .ToList()
            : [];

    // Project profiles: a repository may ship .cordon.yaml, but a repository is exactly what is not trusted. It is
    // used only after `cordon profile trust`, which records its SHA-256; any change makes it untrusted again.

    public static string Hash(string path) => Convert.ToHexStringLower(Sha256.Hash(File.ReadAllBytes(path)));

    public bool IsTrusted(string path) =>
        File.Exists(TrustFile) && File.ReadAllLines(TrustFile).Contains($"{Hash(path)}  {Path.GetFullPath(path)}");

    public void Trust(string path)
    {
        Directory.CreateDirectory(ConfigDirectory, PrivateDirectory);
        using var lockFile = Lock(TrustFile + ".lock");
        var full = Path.GetFullPath(path);
        var lines = File.Exists(TrustFile) ? File.ReadAllLines(TrustFile).Where(l => !l.EndsWith("  " + full, StringComparison.Ordinal)).ToList() : [];
        lines.Add($"{Hash(path)}  {full}");
        using (var temp = new StreamWriter(OpenPrivate(TrustFile + ".tmp", FileMode.Create, FileAccess.Write, FileShare.None)))
        {
            foreach (var line in lines)
            {
                temp.WriteLine(line);
            }
        }

        File.Move(TrustFile + ".tmp", TrustFile, overwrite: true);
    }
}
