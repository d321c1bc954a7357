using System.Runtime.InteropServices;

namespace Cordon.Interop;

/// <summary>glibc's struct termios (bits/termios-struct.h): 4 flag words, c_line, c_cc[32], two speeds. 60 bytes on x86_64.</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct Termios
{
    public uint IFlag;
    public uint OFlag;
    public uint CFlag;
    public uint LFlag;
    public byte Line;
    public fixed byte CC[32];
    public uint ISpeed;
    public uint OSpeed;
}

/// <summary>struct winsize (asm-generic/termios.h): rows, columns, pixel sizes. 8 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct WinSize
{
    public ushort Rows;
    public ushort Cols;
    public ushort XPixel;
    public ushort YPixel;
}

/// <summary>Terminal and pseudo-terminal calls (termios(3), pty(7)).</summary>
public static unsafe partial class Tty
{
    private const string C = "libc";

    public const int TCSANOW = 0;
    public const int TCSADRAIN = 1;
    public const int TCIFLUSH = 0;
    public const ulong TIOCGWINSZ = 0x5413;
    public const ulong TIOCSWINSZ = 0x5414;

    /// <summary>_IOW('T', 0x36, int): on a pseudo-terminal's master, sends a signal to the slave's foreground group.</summary>
    public const ulong TIOCSIG = 0x40045436;

    /// <summary>c_lflag ISIG: the terminal turns the INTR, QUIT and SUSP characters into signals.</summary>
    public const uint ISIG = 0x1;

    /// <summary>c_cc index of the INTR character.</summary>
    public const int VINTR = 0;

    /// <summary>The byte Ctrl-C types (the usual INTR character).</summary>
    public const byte CtrlC = 3;

    [LibraryImport(C, EntryPoint = "tcgetattr", SetLastError = true)]
    public static partial int GetAttr(int fd, out Termios termios);

    [LibraryImport(C, EntryPoint = "tcsetattr", SetLastError = true)]
    public static partial int SetAttr(int fd, int when, in Termios termios);

    [LibraryImport(C, EntryPoint = "cfmakeraw")]
    public static partial void MakeRaw(ref Termios termios);

    [LibraryImport(C, EntryPoint = "tcflush", SetLastError = true)]
    public static partial int Flush(int fd, int queue);

    [LibraryImport(C, EntryPoint = "tcgetpgrp", SetLastError = true)]
    public static partial int GetForegroundGroup(int fd);

    [LibraryImport(C, EntryPoint = "posix_openpt", SetLastError = true)]
    public static partial int OpenPt(int flags);

    [LibraryImport(C, EntryPoint = "grantpt", SetLastError = true)]
    public static partial int GrantPt(int fd);

    [LibraryImport(C, EntryPoint = "unlockpt", SetLastError = true)]
    public static partial int UnlockPt(int fd);

    [LibraryImport(C, EntryPoint = "ptsname_r", SetLastError = true)]
    public static partial int PtsName(int fd, byte* buf, nuint size);

    [LibraryImport(C, EntryPoint = "ioctl", SetLastError = true)]
    public static partial int Ioctl(int fd, ulong request, ref WinSize size);

    [LibraryImport(C, EntryPoint = "pipe2", SetLastError = true)]
    private static partial int Pipe2(int* fds, int flags);

    /// <summary>A close-on-exec pipe (read end, write end), used to wake threads blocked in poll.</summary>
    public static (int Read, int Write) WakePipe()
    {
        int* fds = stackalloc int[2];
        Io.Check(Pipe2(fds, Kernel.O_CLOEXEC), "pipe2");
        return (fds[0], fds[1]);
    }

    [LibraryImport(C, EntryPoint = "isatty")]
    public static partial int IsATty(int fd);

    [LibraryImport(C, EntryPoint = "getpid")]
    public static partial int GetPid();

    /// <summary>
    /// What Ctrl-C typed on a pseudo-terminal does where the slave's termios turn it into SIGINT (ISIG, INTR = ^C):
    /// the slave's foreground group gets SIGINT, here at once (TIOCSIG on the master). False, and nothing sent, where
    /// Ctrl-C is an ordinary character (a full-screen program in raw mode) or the master cannot be asked.
    /// </summary>
    public static bool SignalInterrupt(int masterFd)
    {
        return GetAttr(masterFd, out var t) == 0 && (t.LFlag & ISIG) != 0 && t.CC[VINTR] == CtrlC && Libc.Ioctl(masterFd, TIOCSIG, Kernel.SIGINT) == 0;
    }

    /// <summary>The window size of a terminal, or null when <paramref name="fd"/> is not one.</summary>
    public static WinSize? GetSize(int fd)
    {
        var ws = default(WinSize);
        return Ioctl(fd, TIOCGWINSZ, ref ws) == 0 ? ws : null;
    }

    public static void SetSize(int fd, WinSize size)
    {
        var ws = size;
        _ = Ioctl(fd, TIOCSWINSZ, ref ws);
    }

    /// <summary>Opens a new pseudo-terminal pair: the master (O_RDWR|O_NOCTTY|O_CLOEXEC) and the path of its slave.</summary>
    public static (SafeFd Master, string SlavePath) OpenPseudoTerminal()
    {
        var master = SafeFd.FromResult(OpenPt(Kernel.O_RDWR | Kernel.O_NOCTTY | Kernel.O_CLOEXEC), "posix_openpt");
        try
        {
            Io.Check(GrantPt(master.Fd), "grantpt");
            Io.Check(UnlockPt(master.Fd), "unlockpt");
            byte* buf = stackalloc byte[128];
            int rc = PtsName(master.Fd, buf, 128);
            if (rc != 0)
            {
                throw new ErrnoException("ptsname_r", (Errno)rc);
            }

            return (master, Marshal.PtrToStringUTF8((nint)buf)!);
        }
        catch
        {
            master.Dispose();
            throw;
        }
    }
}

/// <summary>Plain descriptor I/O for managed callers (the terminal proxy): spans in, byte counts or -errno out.</summary>
public static unsafe class FdIo
{
    /// <summary>read(2) into <paramref name="buffer"/>; returns the count, 0 at end of file, or -errno.</summary>
    public static int Read(int fd, Span<byte> buffer)
    {
        fixed (byte* p = buffer)
        {
            nint n = Libc.Read(fd, p, buffer.Length);
            return n < 0 ? -(int)Io.LastErrno : (int)n;
        }
    }

    /// <summary>Writes all of <paramref name="data"/>, retrying short writes and EINTR/EAGAIN; false when the descriptor failed.</summary>
    public static bool WriteAll(int fd, ReadOnlySpan<byte> data)
    {
        fixed (byte* start = data)
        {
            int done = 0;
            while (done < data.Length)
            {
                nint n = Libc.Write(fd, start + done, data.Length - done);
                if (n < 0)
                {
                    var e = Io.LastErrno;
                    if (e is Errno.EINTR)
                    {
                        continue;
                    }

                    if (e is Errno.EAGAIN)
                    {
                        WaitFor(fd, Kernel.POLLOUT, -1);
                        continue;
                    }

                    return false;
                }

                done += (int)n;
            }
        }

        return true;
    }

    /// <summary>Polls descriptors for <paramref name="events"/>; returns the revents of each (all 0 on timeout).</summary>
    public static short[] Poll(ReadOnlySpan<int> fds, short events, int timeoutMs)
    {
        var set = stackalloc PollFd[fds.Length];
        for (int i = 0; i < fds.Length; i++)
        {
            set[i] = new PollFd { Fd = fds[i], Events = events };
        }

        int rc;
        do
        {
            rc = Libc.Poll(set, (nuint)fds.Length, timeoutMs);
        }
        while (rc < 0 && Io.LastErrno == Errno.EINTR);

        var result = new short[fds.Length];
        for (int i = 0; i < fds.Length; i++)
        {
            result[i] = rc > 0 ? set[i].REvents : (short)0;
        }

        return result;
    }

    private static void WaitFor(int fd, short events, int timeoutMs) => Poll([fd], events, timeoutMs);
}
