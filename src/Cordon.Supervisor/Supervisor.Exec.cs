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
    /// <param name="Expected">(dev, ino) the new image must have, or null when it cannot be known (binfmt_misc, nested scripts).</param>
    /// <param name="Before">(dev, ino) of the image before exec: still running means the exec failed.</param>
    private sealed record ExecApproval((ulong, ulong)? Expected, (ulong, ulong)? Before, string Path);

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

            int tgid = ProcFs.Tgid(c.Tid);
            pendingExecs[tgid] = new ExecApproval(ExpectedImage(obj!, st), ImageOf(c.Tid), canonical);
            if (!c.StillValid())
            {
                pendingExecs.TryRemove(tgid, out _);
                c.Fail(Errno.EIO);
                return;
            }

            c.Continue();
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

    /// <summary>The image the kernel will run: the file itself, or for a "#!" script its interpreter.</summary>
    private static (ulong, ulong)? ExpectedImage(SafeFd obj, Stat st)
    {
        int fd = Reopen(obj, Kernel.O_RDONLY | Kernel.O_CLOEXEC | Kernel.O_NOCTTY);
        if (fd < 0)
        {
            return null; // execute-only file: cannot look inside, so no check
        }

        using var h = new SafeFd(fd);
        var head = new byte[256];
        int n = (int)Libc.PRead(fd, head, head.Length, 0);

        if (n >= 4 && head[0] == 0x7f && head.AsSpan(1, 3).SequenceEqual("ELF"u8))
        {
            return (st.Dev, st.Ino);
        }

        if (n >= 3 && head[0] == (byte)'#' && head[1] == (byte)'!')
        {
            var line = Encoding.UTF8.GetString(head, 2, n - 2).Split('\n')[0].Trim();
            var interpreter = line.Split(' ', '\t')[0];
            if (interpreter.Length == 0)
            {
                return null;
            }

            int ifd = Libc.OpenAt(Kernel.AT_FDCWD, interpreter, Kernel.O_PATH | Kernel.O_CLOEXEC, 0);
            if (ifd < 0)
            {
                return null;
            }

            using var ih = new SafeFd(ifd);
            return Libc.FStat(ifd, out var ist) == 0 ? (ist.Dev, ist.Ino) : null;
        }

        return null; // binfmt_misc or unknown: the kernel picks the handler
    }

    /// <summary>Compares the running image with the approved one; kills the process on a mismatch.</summary>
    private bool VerifyExec(Call c, ExecApproval approval)
    {
        if (approval.Expected is null)
        {
            return true;
        }

        var now = ImageOf(c.Tid);
        if (now == approval.Expected || now == approval.Before)
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
        observer.OnIncident($"killed pid {c.Tid}: it runs a program other than the one allowed ({approval.Path}); its exec name was changed after the check");
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
