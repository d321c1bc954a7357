using System.Globalization;
using System.Text;
using Cordon.Interop;

namespace Cordon.Supervisor;

/// <summary>
/// Facts about traced processes read from /proc. Each read is a few system calls, so callers read lazily:
/// only when a prompt, a log record or a denial needs the answer.
/// </summary>
internal static class ProcFs
{
    /// <summary>Reads a small /proc file whole (they are generated on read; one read of 16 KiB is plenty).</summary>
    public static string? ReadText(string path, int max = 16384)
    {
        int fd = Libc.OpenAt(Kernel.AT_FDCWD, path, Kernel.O_RDONLY | Kernel.O_CLOEXEC, 0);
        if (fd < 0)
        {
            return null;
        }

        // A pooled buffer that grows as needed: most of these files are a few hundred bytes, and a fresh 16 KiB
        // array per read (a trapped exec read two) cost more than the read itself.
        var buf = System.Buffers.ArrayPool<byte>.Shared.Rent(Math.Min(max, 4096));
        try
        {
            int total = 0;
            while (total < max)
            {
                if (total == buf.Length)
                {
                    var bigger = System.Buffers.ArrayPool<byte>.Shared.Rent(Math.Min(max, buf.Length * 4));
                    buf.AsSpan(0, total).CopyTo(bigger);
                    System.Buffers.ArrayPool<byte>.Shared.Return(buf);
                    buf = bigger;
                }

                nint n = Libc.Read(fd, buf.AsSpan(total), Math.Min(buf.Length, max) - total);
                if (n <= 0)
                {
                    break;
                }

                total += (int)n;
            }

            return Encoding.UTF8.GetString(buf, 0, total);
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buf);
            _ = Libc.Close(fd);
        }
    }

    /// <summary>A "Name:\tvalue" field of /proc/PID/status: its first number.</summary>
    public static int? StatusField(int tid, string field)
    {
        var text = ReadText($"/proc/{tid}/status");
        if (text is null || !StatusValue(text, field, out var value))
        {
            return null;
        }

        int end = value.IndexOfAny(' ', '\t');
        return int.Parse(end >= 0 ? value[..end] : value, CultureInfo.InvariantCulture); // (decimal fields only: Umask has ParseUmask)
    }

    /// <summary>A "Name:\tvalue" field of /proc/PID/status, all of its value (NSpid has one pid per namespace).</summary>
    public static string? StatusText(int tid, string field)
    {
        var text = ReadText($"/proc/{tid}/status");
        return text is not null && StatusValue(text, field, out var value) ? value.ToString() : null;
    }

    private static bool StatusValue(string status, string field, out ReadOnlySpan<char> value)
    {
        foreach (var line in status.AsSpan().EnumerateLines())
        {
            if (line.StartsWith(field) && line.Length > field.Length && line[field.Length] == ':')
            {
                value = line[(field.Length + 1)..].Trim();
                return true;
            }
        }

        value = default;
        return false;
    }

    /// <summary>
    /// Whether SIGKILL is pending for the thread or its process (SigPnd, ShdPnd in /proc/TID/status), or the thread
    /// is gone. A thread killed while the kernel waits on a FUSE request it already handed out cannot leave until
    /// the request is answered (fs/fuse/dev.c, request_wait_answer): this is how cordon learns it stopped asking.
    /// </summary>
    public static bool Dying(int tid)
    {
        var text = ReadText($"/proc/{tid}/status");
        if (text is null)
        {
            return true;
        }

        const ulong sigkill = 1UL << 8;
        foreach (var line in text.Split('\n'))
        {
            if ((line.StartsWith("SigPnd:", StringComparison.Ordinal) || line.StartsWith("ShdPnd:", StringComparison.Ordinal)) &&
                ulong.TryParse(line.AsSpan(7).Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out ulong mask) &&
                (mask & sigkill) != 0)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// The process a thread belongs to. Most callers are a process's only (or first) thread: pidfd_open takes only a
    /// thread-group leader's id (pidfd_open(2)), so its success says so in two system calls, where /proc/TID/status
    /// makes the kernel write a whole report (memory figures included).
    /// </summary>
    public static int Tgid(int tid)
    {
        long pidfd = Libc.Syscall(Kernel.SYS_pidfd_open, tid, 0, 0);
        if (pidfd >= 0)
        {
            _ = Libc.Close((int)pidfd);
            return tid;
        }

        return StatusField(tid, "Tgid") ?? tid;
    }

    /// <summary>The four ids of a "Uid:" or "Gid:" line of /proc/TID/status (real, effective, saved, file system); empty when unreadable.</summary>
    public static uint[] Ids(int tid, string field)
    {
        return StatusText(tid, field)?.Split(['\t', ' '], StringSplitOptions.RemoveEmptyEntries)
            .Select(v => uint.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out uint id) ? id : uint.MaxValue).ToArray() ?? [];
    }

    public static int? ParentPid(int pid) => StatusField(pid, "PPid");

    /// <summary>
    /// The process's umask; the supervisor's own umask is 0 and creations apply this one instead. Read on every
    /// create, so without <see cref="ReadText"/>'s allocations: "Umask:" is the second line of /proc/TID/status
    /// (since Linux 4.7), and the first 256 bytes hold it. 022 when it cannot be read.
    /// </summary>
    public static uint Umask(int tid)
    {
        const uint fallback = 0x12;
        Span<byte> buf = stackalloc byte[256];
        int n = ReadStart(tid, "status", buf);
        return n > 0 && ParseUmask(buf[..n]) is { } umask ? umask : fallback;
    }

    /// <summary>
    /// When the process began (/proc/PID/stat's starttime, clock ticks after boot), or null when it is gone: with
    /// its pid, the process itself, since pids are reused. An exec keeps it (the leader's, if another thread
    /// execs).
    /// </summary>
    public static ulong? StartTime(int pid)
    {
        Span<byte> buf = stackalloc byte[1024];
        int n = ReadStart(pid, "stat", buf);
        return n > 0 ? ParseStartTime(buf[..n]) : null;
    }

    /// <summary>The 22nd field of a /proc/PID/stat line (counted after the command name, which may hold anything).</summary>
    public static ulong? ParseStartTime(ReadOnlySpan<byte> stat)
    {
        int close = stat.LastIndexOf((byte)')');
        if (close < 0)
        {
            return null;
        }

        // After ") ": field 3 (state) is token 0, so field 22 is token 19.
        var rest = stat[(close + 1)..];
        for (int token = -1; ;)
        {
            int start = 0;
            while (start < rest.Length && rest[start] == (byte)' ')
            {
                start++;
            }

            rest = rest[start..];
            int end = rest.IndexOfAny((byte)' ', (byte)'\n');
            if (rest.IsEmpty || end < 0)
            {
                return null; // cut short: the buffer did not hold the field whole
            }

            if (++token == 19)
            {
                return ulong.TryParse(rest[..end], NumberStyles.None, CultureInfo.InvariantCulture, out ulong value) ? value : null;
            }

            rest = rest[end..];
        }
    }

    /// <summary>The first bytes of /proc/PID/FILE into <paramref name="buffer"/>, without allocating; the count, or 0.</summary>
    private static int ReadStart(int pid, string file, Span<byte> buffer)
    {
        Span<byte> path = stackalloc byte[40];
        if (!System.Text.Unicode.Utf8.TryWrite(path, CultureInfo.InvariantCulture, $"/proc/{pid}/{file}\0", out _))
        {
            return 0;
        }

        int fd = Libc.OpenAt(Kernel.AT_FDCWD, path, Kernel.O_RDONLY | Kernel.O_CLOEXEC, 0);
        if (fd < 0)
        {
            return 0;
        }

        nint n = Libc.Read(fd, buffer, buffer.Length);
        _ = Libc.Close(fd);
        return n > 0 ? (int)n : 0;
    }

    /// <summary>The octal value of the "Umask:" line in the start of a /proc/TID/status text.</summary>
    public static uint? ParseUmask(ReadOnlySpan<byte> status)
    {
        ReadOnlySpan<byte> key = "\nUmask:"u8;
        int at = status.IndexOf(key);
        if (at < 0)
        {
            return null;
        }

        var rest = status[(at + key.Length)..];
        int i = 0;
        while (i < rest.Length && (rest[i] == (byte)'\t' || rest[i] == (byte)' '))
        {
            i++;
        }

        uint value = 0;
        int digits = 0;
        for (; i < rest.Length && rest[i] is >= (byte)'0' and <= (byte)'7'; i++, digits++)
        {
            value = (value * 8) + (uint)(rest[i] - '0');
        }

        // The line must be complete: a value cut off by the end of the buffer could be wrong.
        return digits > 0 && i < rest.Length && rest[i] == (byte)'\n' ? value & 0x1FF : null;
    }

    public static string? ReadLink(string path)
    {
        try
        {
            return new FileInfo(path).LinkTarget;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    public static string? Exe(int pid) => ReadLink($"/proc/{pid}/exe");

    public static IReadOnlyList<string> Cmdline(int pid)
    {
        var text = ReadText($"/proc/{pid}/cmdline", 65536);
        if (string.IsNullOrEmpty(text))
        {
            return Array.Empty<string>();
        }

        return text.TrimEnd('\0').Split('\0');
    }

    /// <summary>
    /// The controlling terminal's device number (field 7 of /proc/PID/stat), 0 when there is none.
    /// proc(5): the minor number is in bits 31-20 and 7-0, the major in bits 15-8.
    /// </summary>
    public static int TtyNr(int tid)
    {
        var text = ReadText($"/proc/{tid}/stat");
        if (text is null)
        {
            return 0;
        }

        // The command name (field 2) is in parentheses and may contain spaces: split after the last ')'.
        int close = text.LastIndexOf(')');
        var fields = text[(close + 2)..].Split(' ');
        return fields.Length > 4 && int.TryParse(fields[4], out int tty) ? tty : 0;
    }

    /// <summary>The terminal device path for a tty_nr, for the terminals a program on a terminal has.</summary>
    public static string? TtyPath(int ttyNr)
    {
        if (ttyNr == 0)
        {
            return null;
        }

        int major = (ttyNr >> 8) & 0xfff;
        int minor = (ttyNr & 0xff) | ((ttyNr >> 12) & 0xfff00);
        return major switch
        {
            >= 136 and <= 143 => $"/dev/pts/{((major - 136) * 256) + minor}",
            4 when minor < 64 => $"/dev/tty{minor}",
            4 => $"/dev/ttyS{minor - 64}",
            5 when minor == 0 => "/dev/tty",
            _ => null,
        };
    }

    /// <summary>
    /// The access mode (O_RDONLY/O_WRONLY/O_RDWR) of fd <paramref name="fd"/> of <paramref name="tid"/>, from fdinfo;
    /// null when unknown or when the descriptor grants no access at all (O_PATH: its mode bits read as O_RDONLY).
    /// </summary>
    public static int? FdAccessMode(int tid, int fd)
    {
        var text = ReadText($"/proc/{tid}/fdinfo/{fd}");
        if (text is null)
        {
            return null;
        }

        foreach (var line in text.AsSpan().EnumerateLines())
        {
            if (line.StartsWith("flags:"))
            {
                int flags = Convert.ToInt32(line[6..].Trim().ToString(), 8);
                return (flags & Kernel.O_PATH) != 0 ? null : flags & Kernel.O_ACCMODE;
            }
        }

        return null;
    }
}
