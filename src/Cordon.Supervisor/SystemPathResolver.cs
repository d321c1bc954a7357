using System.Runtime.InteropServices;
using Cordon.Interop;
using Cordon.Policy;

namespace Cordon.Supervisor;

/// <summary>The real file system behind the policy core's <see cref="IPathResolver"/>.</summary>
public sealed class SystemPathResolver(string home, string workingDirectory, string? searchPath) : IPathResolver
{
    public string Home { get; } = home;

    public string WorkingDirectory { get; } = workingDirectory;

    public static SystemPathResolver ForCurrentProcess() =>
        new(UserHome(), Environment.CurrentDirectory, Environment.GetEnvironmentVariable("PATH"));

    /// <summary>
    /// The home of the person who runs cordon: HOME, except under sudo, which usually resets HOME to root's: then the
    /// home of SUDO_UID from the user database, so that "~" in rules, the profiles and the program's HOME are theirs.
    /// </summary>
    public static string UserHome()
    {
        string? home = Environment.GetEnvironmentVariable("HOME");
        if (SudoUser() is var (uid, _) && (home is null || home.TrimEnd('/') == Libc.HomeOf(0)?.TrimEnd('/')) && Libc.HomeOf(uid) is { } theirs)
        {
            return theirs;
        }

        return home ?? "/";
    }

    /// <summary>The user who ran cordon through sudo (SUDO_UID, SUDO_GID), when cordon runs as root.</summary>
    public static (uint Uid, uint Gid)? SudoUser() =>
        Libc.GetEUid() == 0 &&
        uint.TryParse(Environment.GetEnvironmentVariable("SUDO_UID"), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out uint uid) &&
        uint.TryParse(Environment.GetEnvironmentVariable("SUDO_GID"), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out uint gid) && uid != 0
            ? (uid, gid)
            : null;

    public string Canonicalize(string absolutePath)
    {
        nint p = Libc.RealPath(absolutePath, 0);
        if (p == 0)
        {
            return Path.GetFullPath(absolutePath);
        }

        try
        {
            return Marshal.PtrToStringUTF8(p) ?? absolutePath;
        }
        finally
        {
            Libc.Free(p);
        }
    }

    public string? FindProgram(string name) => ProgramLocator.Find(name, searchPath, WorkingDirectory);
}

/// <summary>Finds a program the way execvp(3) does: a name with a slash is a path, otherwise each PATH entry in turn.</summary>
public static class ProgramLocator
{
    /// <summary>The program's path, or null when there is none (the shell's "command not found").</summary>
    public static string? Find(string name, string? searchPath, string workingDirectory)
    {
        if (name.Length == 0)
        {
            return null;
        }

        if (name.Contains('/'))
        {
            var full = Path.GetFullPath(name, workingDirectory);
            return File.Exists(full) || Directory.Exists(full) ? full : null;
        }

        foreach (var dir in (searchPath ?? "/usr/local/bin:/usr/bin:/bin").Split(':'))
        {
            var candidate = Path.Combine(dir.Length == 0 ? workingDirectory : Path.GetFullPath(dir, workingDirectory), name);
            if (File.Exists(candidate) && Libc.Access(candidate, Kernel.X_OK) == 0)
            {
                return candidate;
            }
        }

        return null;
    }

    public static bool IsExecutable(string path) => File.Exists(path) && Libc.Access(path, Kernel.X_OK) == 0;
}
