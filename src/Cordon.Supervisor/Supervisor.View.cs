using Cordon.Interop;
using Cordon.Policy;
using Cordon.Supervisor.View;

namespace Cordon.Supervisor;

/// <summary>
/// The view engine's part of the supervisor (docs/view.md): the opens that reach cordon's FUSE mirror are decided
/// here as the seccomp engine decides a trapped open, and the calls still trapped are resolved in the host's file
/// system, whose paths the view shows unchanged.
/// </summary>
internal sealed partial class Supervisor
{
    /// <summary>
    /// A read-only open (or a listing, or an exec's open) that reached the mirror: the same request, rules, question
    /// and report as a trapped open of that path. <paramref name="tid"/> is the asking thread as cordon sees it.
    /// </summary>
    internal async ValueTask<Errno> DecideViewOpen(string path, int tid, ViewOpenKind kind, CancellationToken cancel)
    {
        var accessKind = kind == ViewOpenKind.Exec ? AccessKind.Run : AccessKind.Read;
        var op = kind switch
        {
            ViewOpenKind.Exec => Operation.Exec,
            ViewOpenKind.Directory => Operation.List,
            _ => Operation.Read,
        };
        bool unreadable = accessKind == AccessKind.Read && reader is not null
            && Libc.FStatAt(Kernel.AT_FDCWD, PathBytes.Z(path), out var st, 0) == 0 && !reader.CanRead(st.Mode, st.Uid, st.Gid);
        var request = new Request(accessKind, op, path, null, SubjectOf(tid), null) { UnreadableByUser = unreadable };
        Decision decision;
        try
        {
            decision = policy.Match(request)
                ?? await DecideWhileAskedAsync(policy, request, () => !cancel.IsCancellationRequested && !ProcFs.Dying(tid)).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            decision = Decision.Error("policy failed: " + e.Message);
        }

        return Reported(request, decision) ? Errno.None : Errno.EACCES;
    }

    /// <summary>
    /// In the view, the caller's cwd or dirfd is an object of the view (a bind, or the mirror, where cordon's own
    /// changes would fail: it is read-only). The same path in the host's file system is the same file, which cordon
    /// then works on, except for /proc: the view's own, whose pids are those of the sandbox's pid namespace.
    /// </summary>
    private static SafeFd InHostView(SafeFd viewFd)
    {
        string path;
        try
        {
            path = Canonical(viewFd);
        }
        catch (ErrnoException)
        {
            return viewFd;
        }

        if (!path.StartsWith('/') || path.EndsWith(" (deleted)", StringComparison.Ordinal) || Descriptor.InTree("/proc", path))
        {
            return viewFd; // not a path (a pipe, a socket), gone, or the view's own /proc
        }

        int fd = Libc.OpenAt(Kernel.AT_FDCWD, path, Kernel.O_PATH | Kernel.O_CLOEXEC, 0);
        if (fd < 0)
        {
            return viewFd;
        }

        viewFd.Dispose();
        return new SafeFd(fd);
    }

    /// <summary>
    /// The result of a change cordon made on the host at <paramref name="paths"/>, passed through; when it succeeded
    /// (0 or more), the view's mirror first makes the kernel forget what it cached of those names (see
    /// ViewFileSystem.Invalidate), so the program sees its own change at once.
    /// </summary>
    private int Changed(int result, params ReadOnlySpan<string> paths)
    {
        if (result >= 0 && View is { } view)
        {
            foreach (var path in paths)
            {
                view.Changed(path);
            }
        }

        return result;
    }

    /// <summary>
    /// The program gets <paramref name="fd"/> (of <paramref name="path"/>) open for writing: the view's mirror stops
    /// letting the kernel keep that file's attributes (see ViewFileSystem.OpenedForWriting).
    /// </summary>
    private void WrittenThrough(SafeFd fd, string path)
    {
        if (View is { } view && Libc.FStat(fd.Fd, out var st) == 0)
        {
            view.OpenedForWriting(path, st);
        }
    }

    /// <summary>Reads <see cref="MirrorDevice"/> while the reaper still lets cordon see its root.</summary>
    internal void LearnMirrorDevice() => _ = MirrorDevice();

    /// <summary>The device of the view's root (the FUSE mirror), read through the reaper's /proc/PID/root.</summary>
    private (uint, uint)? MirrorDevice()
    {
        if (View is null)
        {
            return null;
        }

        return View.MirrorDevice ??= DeviceOf($"/proc/{Reaper}/root");
    }

    /// <summary>
    /// The device a path (a /proc magic link) leads to, from statx with an empty mask: the one answer a FUSE mount
    /// gives a process outside its user namespace.
    /// </summary>
    private static unsafe (uint, uint)? DeviceOf(string path)
    {
        var z = PathBytes.Z(path);
        fixed (byte* p = z)
        {
            return Libc.Statx(Kernel.AT_FDCWD, p, 0, 0, out var st) == 0 ? (st.DevMajor, st.DevMinor) : null;
        }
    }
}
