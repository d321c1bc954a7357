using Cordon.Interop;

namespace Cordon.Supervisor;

/// <summary>
/// Files cordon writes into the home of the person who ran <c>sudo cordon</c> (profiles, learned rules, trusted
/// projects, the audit log) are written as that person: they own what cordon creates there, and a symlink planted in
/// their home (by them, or by a program cordon ran as them) cannot steer a write of root's somewhere else. The file
/// system identity (setfsuid/setfsgid, raw system calls: the kernel keeps credentials per thread, and only the
/// calling thread changes) is switched for the write and restored after it.
/// </summary>
public static class AsSudoUser
{
    /// <summary>
    /// Who and where, looked up once: the user database (getpwuid, which is not thread-safe) is not read again for
    /// every answer saved during a run.
    /// </summary>
    private static readonly Lazy<(uint Uid, uint Gid, string Home)?> SudoUser = new(() =>
        SystemPathResolver.SudoUser() is var (uid, gid) ? (uid, gid, SystemPathResolver.UserHome()) : null);

    /// <summary>Runs <paramref name="write"/>, as the sudo user when <paramref name="path"/> lies in their home.</summary>
    public static void Write(string path, Action write) => Write(path, () =>
    {
        write();
        return 0;
    });

    /// <inheritdoc cref="Write(string, Action)"/>
    public static T Write<T>(string path, Func<T> write)
    {
        if (SudoUser.Value is not var (uid, gid, home) || !InHome(Path.GetFullPath(path), home))
        {
            return write();
        }

        Become(uid, gid);
        try
        {
            return write();
        }
        finally
        {
            Become(0, 0);
        }
    }

    private static bool InHome(string path, string home)
    {
        home = home.TrimEnd('/');
        return home.Length > 0 && (path == home || path.StartsWith(home + "/", StringComparison.Ordinal));
    }

    private static void Become(uint uid, uint gid)
    {
        // A non-zero fsuid drops the file capabilities (CAP_DAC_OVERRIDE, CAP_CHOWN, ...) but keeps CAP_SETUID and
        // CAP_SETGID, so the way back to 0 stays open and raises them again (capabilities(7)). Each call returns the
        // previous id and reports no error: a second call reads back what the first one set. The supplementary
        // groups stay root's (usually just root).
        Libc.Syscall(Kernel.SYS_setfsgid, gid, 0, 0);
        Libc.Syscall(Kernel.SYS_setfsuid, uid, 0, 0);
        if (Libc.Syscall(Kernel.SYS_setfsuid, uid, 0, 0) != uid || Libc.Syscall(Kernel.SYS_setfsgid, gid, 0, 0) != gid)
        {
            // Never write, or go on, with an identity we did not mean: stop cordon instead.
            Environment.FailFast($"cordon: could not switch the file system identity to {uid}:{gid}");
        }
    }
}
