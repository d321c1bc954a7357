using System.Buffers;
using System.Globalization;
using System.Text;
using Cordon.Interop;
using Cordon.Policy;

namespace Cordon.Supervisor;

/// <summary>
/// How a path from a traced process becomes an object cordon holds: read the path once, resolve it here relative to
/// the caller's own directory (its cwd or dirfd, reached through /proc/TID), and keep an O_PATH descriptor of what
/// was reached. Decisions are made on that descriptor's canonical path and operations are performed on it, so a
/// second thread rewriting the path after the check changes nothing.
/// </summary>
internal sealed partial class Supervisor
{
    /// <summary>Reads a path argument. On failure the call is answered and null returned.</summary>
    private byte[]? ReadPath(Call c, ulong address)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(Kernel.PathMax);
        try
        {
            int n = ProcessMemory.ReadCString(c.Tid, address, buffer.AsSpan(0, Kernel.PathMax));
            if (n < 0)
            {
                var err = (Errno)(-n);
                if (err is Errno.EPERM or Errno.EACCES)
                {
                    // A non-dumpable process: its memory is closed to us, so nothing it asks can be decided.
                    observer.OnIncident($"cannot read the memory of pid {c.Tid} (a non-dumpable process?): {SyscallName(c)} denied");
                    err = Errno.EACCES;
                }
                else if (err == Errno.ESRCH)
                {
                    err = Errno.EIO;
                }

                c.Fail(err);
                return null;
            }

            if (!c.StillValid())
            {
                c.Fail(Errno.EIO);
                return null;
            }

            return buffer.AsSpan(0, n).ToArray();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>"N" or "N/..." at the start of <paramref name="s"/>: N and what follows it.</summary>
    private static bool NamespacePid(ReadOnlySpan<byte> s, out int pid, out ReadOnlySpan<byte> after)
    {
        int end = s.IndexOf((byte)'/');
        var digits = end < 0 ? s : s[..end];
        after = end < 0 ? [] : s[end..];
        return int.TryParse(System.Text.Encoding.ASCII.GetString(digits), NumberStyles.None, CultureInfo.InvariantCulture, out pid) && pid > 0;
    }

    private static string SyscallName(Call c) => Seccomp.SyscallNames.Name(c.Nr);

    /// <summary>
    /// Rewrites names that mean "the caller itself". Resolved in cordon they would name cordon: /proc/self,
    /// /proc/thread-self, /dev/fd, /dev/std* and /dev/tty (kernel-facts.md). Only a literal prefix is rewritten;
    /// a symlink elsewhere that points into /proc/self still resolves to cordon's own entry, which is decided like
    /// any path and which the base rules do not grant (cordon is not a member of the sandbox).
    /// </summary>
    private byte[] Rewrite(Call c, byte[] path, out Errno error)
    {
        error = Errno.None;
        if (path.Length < 5 || path[0] != (byte)'/')
        {
            return path;
        }

        ReadOnlySpan<byte> p = path;
        if (View is not null && p.StartsWith("/proc/"u8) && NamespacePid(p[6..], out int nsPid, out var after))
        {
            // In the view the program names processes by the pids of its own pid namespace; cordon resolves and
            // decides in the host's /proc. A pid with no process of the sandbox behind it names nothing.
            return View.HostPid(nsPid, Reaper) is int host ? Concat($"/proc/{host}", after) : Concat("/proc/0", after);
        }

        if (Prefix(p, "/proc/self"u8, out var rest))
        {
            return Concat($"/proc/{ProcFs.Tgid(c.Tid)}", rest);
        }

        if (Prefix(p, "/proc/thread-self"u8, out rest))
        {
            return Concat($"/proc/{ProcFs.Tgid(c.Tid)}/task/{c.Tid}", rest);
        }

        if (Prefix(p, "/dev/fd"u8, out rest))
        {
            return Concat($"/proc/{c.Tid}/fd", rest);
        }

        if (Prefix(p, "/dev/stdin"u8, out rest))
        {
            return Concat($"/proc/{c.Tid}/fd/0", rest);
        }

        if (Prefix(p, "/dev/stdout"u8, out rest))
        {
            return Concat($"/proc/{c.Tid}/fd/1", rest);
        }

        if (Prefix(p, "/dev/stderr"u8, out rest))
        {
            return Concat($"/proc/{c.Tid}/fd/2", rest);
        }

        if (p.SequenceEqual("/dev/tty"u8))
        {
            // The caller's controlling terminal, which need not be cordon's.
            var tty = ProcFs.TtyPath(ProcFs.TtyNr(c.Tid));
            if (tty is null or "/dev/tty")
            {
                error = Errno.ENXIO;
                return path;
            }

            return Encoding.UTF8.GetBytes(tty);
        }

        return path;
    }

    private static bool Prefix(ReadOnlySpan<byte> path, ReadOnlySpan<byte> prefix, out ReadOnlySpan<byte> rest)
    {
        rest = default;
        if (!path.StartsWith(prefix) || (path.Length > prefix.Length && path[prefix.Length] != (byte)'/'))
        {
            return false;
        }

        rest = path[prefix.Length..];
        return true;
    }

    private static byte[] Concat(string head, ReadOnlySpan<byte> rest)
    {
        var h = Encoding.UTF8.GetBytes(head);
        var r = new byte[h.Length + rest.Length];
        h.CopyTo(r, 0);
        rest.CopyTo(r.AsSpan(h.Length));
        return r;
    }

    /// <summary>
    /// If <paramref name="path"/> is /proc/PID/fd/N (or /proc/PID/task/TID/fd/N) of the caller itself, returns N:
    /// reopening a descriptor one already holds, with no more access than it has, asks for nothing new.
    /// </summary>
    private static int OwnFd(Call c, ReadOnlySpan<byte> path)
    {
        if (!path.StartsWith("/proc/"u8))
        {
            return -1;
        }

        var text = Encoding.ASCII.GetString(path);
        var parts = text.Split('/');
        // "", "proc", PID, "fd", N   or   "", "proc", PID, "task", TID, "fd", N
        if (parts.Length is not (5 or 7) || parts[1] != "proc")
        {
            return -1;
        }

        int fdIndex = parts.Length - 2;
        if (parts[fdIndex] != "fd" || !int.TryParse(parts[^1], NumberStyles.None, CultureInfo.InvariantCulture, out int fd))
        {
            return -1;
        }

        if (!int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out int pid))
        {
            return -1;
        }

        if (parts.Length == 7 && (parts[3] != "task" || parts[4] != c.Tid.ToString(CultureInfo.InvariantCulture)))
        {
            return -1;
        }

        return pid == c.Tid || pid == ProcFs.Tgid(c.Tid) ? fd : -1;
    }

    /// <summary>
    /// The directory a relative path starts from: the caller's cwd or its dirfd, opened through /proc/TID so that
    /// cordon holds the very same directory. Null for absolute paths (the sandbox cannot chroot: the filter refuses it),
    /// unless <paramref name="rooted"/>: openat2's RESOLVE_IN_ROOT reads an absolute path below the dirfd.
    /// </summary>
    private Errno OpenBase(Call c, int dirfd, ReadOnlySpan<byte> path, bool emptyPathAllowed, out SafeFd? baseFd, bool rooted = false)
    {
        baseFd = null;
        if (path.Length > 0 && path[0] == (byte)'/' && !rooted)
        {
            return Errno.None;
        }

        if (path.Length == 0 && !emptyPathAllowed)
        {
            return Errno.ENOENT;
        }

        string where;
        if (dirfd == Kernel.AT_FDCWD)
        {
            where = $"/proc/{c.Tid}/cwd";
        }
        else if (dirfd < 0)
        {
            return Errno.EBADF;
        }
        else
        {
            where = $"/proc/{c.Tid}/fd/{dirfd}";
        }

        int fd = Libc.OpenAt(Kernel.AT_FDCWD, where, Kernel.O_PATH | Kernel.O_CLOEXEC, 0);
        if (fd < 0)
        {
            var e = Io.LastErrno;
            return e == Errno.ENOENT && dirfd != Kernel.AT_FDCWD ? Errno.EBADF : e;
        }

        baseFd = View is null ? new SafeFd(fd) : InHostView(new SafeFd(fd));
        return Errno.None;
    }

    /// <summary>Opens <paramref name="path"/> as O_PATH relative to <paramref name="baseFd"/> with openat2(2).</summary>
    internal static Errno OpenPathFd(SafeFd? baseFd, ReadOnlySpan<byte> path, int flags, ulong resolve, out SafeFd? fd)
    {
        fd = null;
        if (path.Length == 0)
        {
            path = "."u8;
        }

        // NUL-terminated on the stack: this runs for nearly every trapped call.
        Span<byte> z = path.Length < 512 ? stackalloc byte[path.Length + 1] : new byte[path.Length + 1];
        path.CopyTo(z);
        z[^1] = 0;
        int r = Libc.OpenAt2(baseFd?.Fd ?? Kernel.AT_FDCWD, z, new OpenHow { Flags = (ulong)(Kernel.O_PATH | Kernel.O_CLOEXEC | flags), Resolve = resolve });
        if (r < 0)
        {
            return Io.LastErrno;
        }

        fd = new SafeFd(r);
        return Errno.None;
    }

    /// <summary>
    /// cordon's own /proc/self/fd, opened once. Reading a descriptor's link or reopening it through this directory
    /// walks one name instead of four ("/proc", "self", "fd", N): two of the costliest steps of an emulated open.
    /// </summary>
    private static readonly SafeFd OwnFds = SafeFd.FromResult(Libc.OpenAt(Kernel.AT_FDCWD, "/proc/self/fd", Kernel.O_PATH | Kernel.O_DIRECTORY | Kernel.O_CLOEXEC, 0), "open /proc/self/fd");

    /// <summary>The canonical path of what <paramref name="fd"/> refers to (readlink of /proc/self/fd/N).</summary>
    private static string Canonical(SafeFd fd)
    {
        Span<byte> name = stackalloc byte[12];
        FdName(fd, name);
        var buf = ArrayPool<byte>.Shared.Rent(Kernel.PathMax);
        try
        {
            nint n = Libc.ReadLinkAt(OwnFds.Fd, name, buf, Kernel.PathMax);
            if (n < 0)
            {
                throw new ErrnoException("readlink " + SelfFd(fd), Io.LastErrno);
            }

            return Encoding.UTF8.GetString(buf, 0, (int)n);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buf);
        }
    }

    /// <summary>
    /// Opens the very object <paramref name="fd"/> (often O_PATH) refers to, with <paramref name="flags"/>: the
    /// open(2) of /proc/self/fd/N. Returns the new descriptor or -1 with errno set.
    /// </summary>
    private static int Reopen(SafeFd fd, int flags, uint mode = 0)
    {
        Span<byte> name = stackalloc byte[12];
        FdName(fd, name);
        return Libc.OpenAt(OwnFds.Fd, name, flags, mode);
    }

    /// <summary>The descriptor's number as a NUL-terminated name in /proc/self/fd.</summary>
    private static void FdName(SafeFd fd, Span<byte> name)
    {
        name.Clear();
        fd.Fd.TryFormat(name, out _, default, CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// <see cref="OpenPathFd"/>, and the canonical path of what it reached (readlink of the descriptor: the path as
    /// the kernel reached it, symlinks resolved).
    /// </summary>
    /// <remarks>
    /// Tempting but wrong: skipping the readlink for a plain absolute path that RESOLVE_NO_SYMLINKS resolved, as if
    /// the path as written were canonical. On a case-insensitive file system "~/.SSH/id_rsa" would then be decided
    /// as written and slip past a deny rule for "~/.ssh", which d_path can still catch (README, Limits).
    /// </remarks>
    private static Errno LookUp(SafeFd? baseFd, byte[] path, int flags, ulong resolve, out SafeFd? fd, out string canonical)
    {
        canonical = "";
        var e = OpenPathFd(baseFd, path, flags, resolve, out fd);
        if (e == Errno.None)
        {
            try
            {
                canonical = Canonical(fd!);
            }
            catch
            {
                fd!.Dispose();
                fd = null;
                throw;
            }
        }

        return e;
    }

    private static string SelfFd(SafeFd fd) => "/proc/self/fd/" + fd.Fd.ToString(CultureInfo.InvariantCulture);

    private static Stat StatOf(SafeFd fd)
    {
        Io.Check(Libc.FStat(fd.Fd, out var st), "fstat");
        return st;
    }

    private static bool TryStatAt(SafeFd dir, ReadOnlySpan<byte> name, out Stat st) =>
        Libc.FStatAt(dir.Fd, PathBytes.Z(name), out st, Kernel.AT_SYMLINK_NOFOLLOW) == 0;

    /// <summary>
    /// Resolves the object a path names (for chmod, chown, truncate, utimes, xattrs, link sources and exec).
    /// <paramref name="path"/> null or empty with AT_EMPTY_PATH means the descriptor <paramref name="dirfd"/> itself.
    /// </summary>
    private Errno ResolveObject(Call c, int dirfd, byte[]? path, bool follow, bool emptyPath, out SafeFd? obj, out string canonical)
    {
        obj = null;
        canonical = "";
        if (path is null || path.Length == 0)
        {
            if (!emptyPath)
            {
                return Errno.ENOENT;
            }

            path = dirfd == Kernel.AT_FDCWD ? "."u8.ToArray() : [];
        }
        else
        {
            path = Rewrite(c, path, out var rewriteError);
            if (rewriteError != Errno.None)
            {
                return rewriteError;
            }
        }

        var err = OpenBase(c, dirfd, path, emptyPathAllowed: true, out var baseFd);
        if (err != Errno.None)
        {
            return err;
        }

        if (path.Length == 0)
        {
            // The descriptor itself: the base we just opened is that object.
            obj = baseFd!;
        }
        else
        {
            using (baseFd)
            {
                err = OpenPathFd(baseFd, path, follow ? 0 : Kernel.O_NOFOLLOW, 0, out obj);
            }

            if (err != Errno.None)
            {
                return err;
            }
        }

        canonical = Canonical(obj!);
        return Errno.None;
    }

    /// <summary>
    /// Resolves the directory that will hold a new or removed name (creat, mkdir, unlink, rename, link, symlink,
    /// bind). The last component is not followed: these calls act on the name itself.
    /// </summary>
    private Errno ResolveParent(Call c, int dirfd, byte[] path, out SafeFd? dir, out byte[] name, out bool trailingSlash, out string resource)
    {
        dir = null;
        resource = "";
        path = Rewrite(c, path, out var rewriteError);
        (var parent, name, trailingSlash) = PathBytes.Split(path);
        if (rewriteError != Errno.None)
        {
            return rewriteError;
        }

        if (path.Length == 0)
        {
            return Errno.ENOENT;
        }

        var err = OpenBase(c, dirfd, path, emptyPathAllowed: false, out var baseFd);
        if (err != Errno.None)
        {
            return err;
        }

        using (baseFd)
        {
            err = OpenPathFd(baseFd, parent, Kernel.O_DIRECTORY, 0, out dir);
            if (err != Errno.None)
            {
                return err;
            }
        }

        resource = PathBytes.Join(Canonical(dir!), name);
        return Errno.None;
    }
}
