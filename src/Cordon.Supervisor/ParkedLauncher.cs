using System.Globalization;
using System.Text;
using Cordon.Interop;

namespace Cordon.Supervisor;

/// <summary>
/// A launcher started (<c>cordon-launcher --parked</c>) when a run begins, before cordon has read its command line,
/// profiles and environment: its exec, about a millisecond on our machines, overlaps that work instead of coming
/// after it. The run then hands it, in one packet on the control socket, the command line it would have been
/// started with, the program's environment and the program's terminal (native/launcher/README.md). It is started
/// with an empty environment, and exits without a word when cordon closes the socket unused.
/// </summary>
internal sealed class ParkedLauncher
{
    /// <summary>The most a packet may hold; a larger command line and environment get a launcher of their own.</summary>
    private const int MaxPacket = 200 * 1024;

    /// <summary>The most arguments and variables the launcher takes in a packet (launcher.c, MAX_PARKED_ARGS and _ENV).</summary>
    private const int MaxArguments = 4096;
    private const int MaxVariables = 8192;

    private static Task<ParkedLauncher?>? parked;

    private readonly string path;
    private readonly int pid;
    private readonly SafeFd control;

    private ParkedLauncher(string path, int pid, SafeFd control)
    {
        this.path = path;
        this.pid = pid;
        this.control = control;
    }

    /// <summary>
    /// Starts the launcher of <paramref name="path"/> for a run about to begin, on a thread of its own: posix_spawn
    /// holds its caller until the new process has exec'd, and that is the time to save. The thread then waits for
    /// ever, because the launcher's parent-death signal fires when the thread that started it ends. Failing,
    /// nothing happens (the run starts a launcher itself, and reports what stops it).
    /// </summary>
    public static void Park(string path)
    {
        if (parked is not null)
        {
            return;
        }

        var started = new TaskCompletionSource<ParkedLauncher?>(TaskCreationOptions.RunContinuationsAsynchronously);
        try
        {
            NativeThread.Start("cordon-spawn", () =>
            {
                started.SetResult(Spawn(path));
                Thread.Sleep(Timeout.Infinite);
            });
            parked = started.Task;
        }
        catch (ErrnoException)
        {
            // no thread: the run starts its launcher itself
        }
    }

    private static ParkedLauncher? Spawn(string path)
    {
        try
        {
            var (pid, control) = Sandbox.StartLauncher(path, ["cordon-launcher", "--parked"], [], []);
            return new ParkedLauncher(path, pid, control);
        }
        catch (ErrnoException)
        {
            return null;
        }
    }

    /// <summary>
    /// Hands the parked launcher, if there is one for <paramref name="path"/>, its command line
    /// (<paramref name="argv"/>, from "cordon-launcher" on), <paramref name="environment"/> and the descriptors
    /// <paramref name="stdio"/> (cordon's, with the numbers the program is to have). Returns its pid and control
    /// socket, or null: none was parked, or it could not be handed this (it is then killed and reaped).
    /// </summary>
    public static (int Pid, SafeFd Control)? Take(string path, IReadOnlyList<string> argv, IReadOnlyList<string> environment, IReadOnlyList<(int From, int To)> stdio)
    {
        var p = Interlocked.Exchange(ref parked, null)?.GetAwaiter().GetResult();
        if (p is null)
        {
            return null;
        }

        if (p.path == path && stdio.All(s => s.To is >= 0 and <= 2) && stdio.Count <= 3 && argv.Count <= MaxArguments
            && environment.Count <= MaxVariables && p.Send(Packet(argv, environment, stdio), stdio))
        {
            return (p.pid, p.control);
        }

        _ = Libc.Kill(p.pid, Kernel.SIGKILL);
        _ = Libc.WaitPid(p.pid, out _, Kernel.WALL);
        p.control.Dispose();
        return null;
    }

    /// <summary>The packet's text: NUL-separated, the argument count and arguments, the descriptor count and numbers, the environment.</summary>
    internal static byte[] Packet(IReadOnlyList<string> argv, IReadOnlyList<string> environment, IReadOnlyList<(int From, int To)> stdio)
    {
        var text = new StringBuilder();
        void Add(string s) => text.Append(s).Append('\0');
        Add(argv.Count.ToString(CultureInfo.InvariantCulture));
        foreach (var a in argv)
        {
            Add(a);
        }

        Add(stdio.Count.ToString(CultureInfo.InvariantCulture));
        foreach (var (_, to) in stdio)
        {
            Add(to.ToString(CultureInfo.InvariantCulture));
        }

        foreach (var e in environment)
        {
            Add(e);
        }

        return Encoding.UTF8.GetBytes(text.ToString());
    }

    private unsafe bool Send(byte[] packet, IReadOnlyList<(int From, int To)> stdio)
    {
        if (packet.Length > MaxPacket)
        {
            return false;
        }

        // One SCM_RIGHTS message: struct cmsghdr (16 bytes) and the descriptors, padded to 8 (cmsg(3)).
        int controlLength = stdio.Count == 0 ? 0 : 16 + ((stdio.Count * 4 + 7) & ~7);
        byte* cmsg = stackalloc byte[16 + 16];
        new Span<byte>(cmsg, 32).Clear();
        if (stdio.Count > 0)
        {
            *(ulong*)cmsg = (ulong)(16 + stdio.Count * 4);
            *(int*)(cmsg + 8) = Kernel.SOL_SOCKET;
            *(int*)(cmsg + 12) = Kernel.SCM_RIGHTS;
            for (int i = 0; i < stdio.Count; i++)
            {
                *(int*)(cmsg + 16 + (i * 4)) = stdio[i].From;
            }
        }

        fixed (byte* d = packet)
        {
            var iov = new IoVec { Base = (nint)d, Length = (nuint)packet.Length };
            var hdr = new MsgHdr { Iov = (nint)(&iov), IovLen = 1, Control = controlLength > 0 ? (nint)cmsg : 0, ControlLen = (ulong)controlLength };
            return Libc.SendMsg(control.Fd, &hdr, Kernel.MSG_NOSIGNAL) == packet.Length;
        }
    }
}
