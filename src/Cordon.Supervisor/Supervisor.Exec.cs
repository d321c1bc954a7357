using System.Text;
using Cordon.Interop;
using Cordon.Policy;

namespace Cordon.Supervisor;

/// <summary>
/// execve cannot be emulated: only the kernel can replace a process image, and it reads the file name from the
/// caller's memory again after we answer CONTINUE. A second thread (or another process writing this one's memory)
/// can swap the name in that window. cordon narrows the race: it records which file it allowed, and at the process's
/// next trapped call (a dynamically linked program's loader opens its libraries at once) it compares the running
/// image with that file; a mismatch kills the process before the call is answered.
/// </summary>
internal sealed partial class Supervisor
{
    /// <param name="Expected">(dev, ino) the new image must have, or null when it cannot be known (a binfmt_misc handler).</param>
    /// <param name="Before">(dev, ino) of the image before exec: still running means the exec failed.</param>
    /// <param name="Started">When the process began (<see cref="ProcFs.StartTime"/>): a process with its pid and
    /// another start is a new one, which the approval is not about.</param>
    private sealed record ExecApproval((ulong, ulong)? Expected, (ulong, ulong)? Before, string Path, ulong? Started);

    /// <summary>How many approvals may wait before those of processes that are gone are cleared (see <see cref="Approve"/>).</summary>
    private const int PendingExecsToPrune = 1024;

    private int pruneAt = PendingExecsToPrune;

    private async ValueTask Exec(Call c, int dirfd, ulong pathAddr, ulong argvAddr, int flags)
    {
        byte[]? path = pathAddr == 0 && (flags & Kernel.AT_EMPTY_PATH) != 0 ? [] : ReadPath(c, pathAddr);
        if (path is null)
        {
            return;
        }

        var err = ResolveObject(c, dirfd, path, follow: (flags & Kernel.AT_SYMLINK_NOFOLLOW) == 0, (flags & Kernel.AT_EMPTY_PATH) != 0, out var obj, out string canonical);
        if (err != Errno.None)
        {
            c.Fail(err);
            return;
        }

        using (obj)
        {
            var st = StatOf(obj!);
            if (st.Type == Kernel.S_IFLNK)
            {
                c.Fail(Errno.ELOOP);
                return;
            }

            if (st.Type != Kernel.S_IFREG)
            {
                c.Fail(Errno.EACCES);
                return;
            }

            string requested = CommandLine(c, path, argvAddr);
            if (!await Allowed(c, AccessKind.Run, Operation.Exec, canonical, requested).ConfigureAwait(false))
            {
                c.Fail(Errno.EACCES);
                return;
            }

            var (error, expected) = await Interpreters(c, obj!, st, canonical).ConfigureAwait(false);
            if (error != Errno.None)
            {
                c.Fail(error);
                return;
            }

            int tgid = ProcFs.Tgid(c.Tid);
            Approve(tgid, new ExecApproval(expected, ImageOf(c.Tid), canonical, ProcFs.StartTime(tgid)));
            if (!c.StillValid())
            {
                pendingExecs.TryRemove(tgid, out _);
                c.Fail(Errno.EIO);
                return;
            }

            c.Continue();
        }
    }

    /// <summary>
    /// Decides what the kernel will run for <paramref name="file"/>: for a "#!" script its interpreter, asked about as
    /// a program of its own, and that one's interpreter in turn, as far as the kernel follows them. Each file is read
    /// through the descriptor cordon decided on, never by its name again; each interpreter path is resolved as the
    /// kernel's open_exec resolves it (relative to the caller's cwd, symbolic links followed). Returns the error the
    /// call must fail with, or the image the process must be running afterwards (null when the kernel's choice
    /// cannot be known: a binfmt_misc handler).
    /// </summary>
    private async ValueTask<(Errno Error, (ulong, ulong)? Expected)> Interpreters(Call c, SafeFd file, Stat st, string canonical)
    {
        var held = new List<SafeFd>();
        try
        {
            var current = file;
            for (int depth = 0; ; depth++)
            {
                var head = Head(current);
                if (head is null)
                {
                    // Execute-only (cordon cannot read it, the kernel can): whatever it is, only the file itself may
                    // run; if it was a script, the image check kills its interpreter at its first trapped call.
                    return (Errno.None, (st.Dev, st.Ino));
                }

                switch (ScriptHeader.Parse(head, out var interpreter, out var argument))
                {
                    case ExecFormat.Elf:
                        return (Errno.None, (st.Dev, st.Ino));
                    case ExecFormat.BadScript:
                        return (Errno.ENOEXEC, null);
                    case ExecFormat.Unknown:
                        // Without a binfmt_misc handler the kernel refuses the file itself; answering ENOEXEC here
                        // also leaves no window for rewriting the file into a script after this check.
                        return BinfmtMiscHandlers() ? (Errno.None, null) : (Errno.ENOEXEC, null);
                }

                if (depth == ScriptHeader.MaxDepth)
                {
                    return (Errno.ELOOP, null);
                }

                var err = ResolveObject(c, Kernel.AT_FDCWD, interpreter, follow: true, emptyPath: false, out var next, out string nextCanonical);
                if (err != Errno.None)
                {
                    return (err, null);
                }

                held.Add(next!);
                st = StatOf(next!);
                if (st.Type != Kernel.S_IFREG)
                {
                    return (Errno.EACCES, null);
                }

                string line = "#!" + PathBytes.Text(interpreter) + (argument is null ? "" : " " + PathBytes.Text(argument));
                if (!await Allowed(c, AccessKind.Run, Operation.Exec, nextCanonical, $"{line} (the interpreter of {canonical})").ConfigureAwait(false))
                {
                    return (Errno.EACCES, null);
                }

                current = next!;
                canonical = nextCanonical;
            }
        }
        finally
        {
            foreach (var h in held)
            {
                h.Dispose();
            }
        }
    }

    /// <summary>The first bytes the kernel looks at (fs/exec.c, prepare_binprm), or null when cordon cannot read the file.</summary>
    private static byte[]? Head(SafeFd obj)
    {
        int fd = Reopen(obj, Kernel.O_RDONLY | Kernel.O_CLOEXEC | Kernel.O_NOCTTY);
        if (fd < 0)
        {
            return null;
        }

        using var h = new SafeFd(fd);
        var head = new byte[ScriptHeader.BufferSize];
        nint n = Libc.PRead(fd, head, head.Length, 0);
        return n < 0 ? null : head[..(int)n];
    }

    /// <summary>
    /// Whether binfmt_misc may claim a file that is neither ELF nor a script: mounted, enabled, and with at least one
    /// handler registered (each is a file next to "register" and "status"). Read at each such exec, which is rare.
    /// </summary>
    private static bool BinfmtMiscHandlers()
    {
        const string dir = "/proc/sys/fs/binfmt_misc";
        try
        {
            return File.Exists(dir + "/status")
                && File.ReadAllText(dir + "/status").Trim() == "enabled"
                && Directory.EnumerateFileSystemEntries(dir).Any(e => Path.GetFileName(e) is not ("register" or "status"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false; // cannot tell: refused like a file no handler claims (fail closed)
        }
    }

    /// <summary>"path arg1 arg2 ..." for people; at most 32 arguments and 4 KiB are read.</summary>
    private static string CommandLine(Call c, byte[] path, ulong argvAddr)
    {
        var text = new StringBuilder(PathBytes.Text(path));
        if (argvAddr == 0)
        {
            return text.ToString();
        }

        var pointers = new byte[8 * 32];
        if (ProcessMemory.Read(c.Tid, argvAddr, pointers) != Errno.None)
        {
            return text.ToString();
        }

        var buf = new byte[1024];
        for (int i = 1; i < 32 && text.Length < 4096; i++)
        {
            ulong p = BitConverter.ToUInt64(pointers, i * 8);
            if (p == 0)
            {
                break;
            }

            int n = ProcessMemory.ReadCString(c.Tid, p, buf);
            if (n < 0)
            {
                break;
            }

            text.Append(' ').Append(PathBytes.Text(buf.AsSpan(0, n)));
        }

        return text.ToString();
    }

    private static (ulong, ulong)? ImageOf(int tid)
    {
        int fd = Libc.OpenAt(Kernel.AT_FDCWD, $"/proc/{tid}/exe", Kernel.O_PATH | Kernel.O_CLOEXEC, 0);
        if (fd < 0)
        {
            return null;
        }

        using var h = new SafeFd(fd);
        return Libc.FStat(fd, out var st) == 0 ? (st.Dev, st.Ino) : null;
    }

    /// <summary>
    /// Keeps an exec's approval until the process's next trapped call. Many programs make none (under the view most
    /// do not: their reads are the kernel's), so approvals of processes that are gone are cleared once enough wait:
    /// without that they piled up for the whole run, one per such exec.
    /// </summary>
    private void Approve(int tgid, ExecApproval approval)
    {
        pendingExecs[tgid] = approval;
        if (pendingExecs.Count < Volatile.Read(ref pruneAt))
        {
            return;
        }

        foreach (var (pid, waiting) in pendingExecs)
        {
            if (ProcFs.StartTime(pid) is not { } started || started != waiting.Started)
            {
                pendingExecs.TryRemove(new KeyValuePair<int, ExecApproval>(pid, waiting));
            }
        }

        Volatile.Write(ref pruneAt, Math.Max(PendingExecsToPrune, 2 * pendingExecs.Count));
    }

    /// <summary>Compares the running image with the approved one; kills the process on a mismatch.</summary>
    private bool VerifyExec(Call c, ExecApproval approval)
    {
        if (approval.Expected is null)
        {
            return true;
        }

        // The approval was for a process that has ended without another trapped call, and this one has its pid
        // (pids are reused: 32,768 of them on many machines): there is nothing of this one to compare. Killing it
        // would kill an innocent process.
        if (approval.Started is { } started && ProcFs.StartTime(c.Tid) != started)
        {
            return true;
        }

        var now = ImageOf(c.Tid);
        if (now == approval.Expected || now == approval.Before)
        {
            return true;
        }

        // In the view, a program that is not in a bound tree runs from cordon's mirror (a device of its own, whose
        // files an unprivileged cordon cannot even stat: FUSE answers only the processes of its user namespace and
        // gives st_dev alone): the mirror decided that exec's open itself, as a program, so its decision stands.
        if (View is not null && DeviceOf($"/proc/{c.Tid}/exe") is { } dev && dev == MirrorDevice())
        {
            return true;
        }

        // The kernel ran something other than what was decided: the name was swapped after the check.
        using (var pidfd = TryPidfd(c.Tid))
        {
            if (pidfd is not null)
            {
                _ = Pidfd.SendSignal(pidfd, Kernel.SIGKILL);
            }
        }

        c.Fail(Errno.EACCES);
        observer.OnIncident($"killed pid {c.Tid}: it runs a program other than the one allowed ({approval.Path}); its exec name or a script's #! line was changed after the check, or cordon could not read the script to see its interpreter");
        return false;
    }

    private static SafeFd? TryPidfd(int tid)
    {
        long r = Libc.Syscall(Kernel.SYS_pidfd_open, tid, Kernel.PIDFD_THREAD, 0);
        if (r < 0)
        {
            r = Libc.Syscall(Kernel.SYS_pidfd_open, ProcFs.Tgid(tid), 0, 0);
        }

        return r < 0 ? null : new SafeFd((int)r);
    }
}
