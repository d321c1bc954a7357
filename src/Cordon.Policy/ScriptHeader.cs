namespace Cordon.Policy;

/// <summary>What the kernel will do with a file it is asked to execute, judged from its first bytes.</summary>
public enum ExecFormat
{
    /// <summary>An ELF image: the file itself runs.</summary>
    Elf,

    /// <summary>A "#!" line naming an interpreter: the interpreter runs, with the script's path as an argument.</summary>
    Script,

    /// <summary>Starts with "#!" but the kernel's parser gives up (no name, or a name that does not fit): ENOEXEC.</summary>
    BadScript,

    /// <summary>Neither: the kernel answers ENOEXEC unless a binfmt_misc handler claims it.</summary>
    Unknown,
}

/// <summary>
/// Reads a "#!" line exactly as fs/binfmt_script.c (load_script) does, so that cordon decides the interpreter the
/// kernel will open and not one a looser parser would find. The kernel looks at the first BINPRM_BUF_SIZE (256)
/// bytes only, zero-padded when the file is shorter (fs/exec.c, prepare_binprm). Pure parsing, no I/O.
/// </summary>
public static class ScriptHeader
{
    /// <summary>BINPRM_BUF_SIZE in include/uapi/linux/binfmts.h.</summary>
    public const int BufferSize = 256;

    /// <summary>
    /// How many interpreters the kernel follows: exec_binprm in fs/exec.c calls the handlers for depth 0 to 5 and
    /// fails with ELOOP after that, so a script at depth 5 (the fifth interpreter in a chain) cannot run.
    /// Measured on this project's kernel: five scripts in a chain ending in /bin/sh ran, six gave ELOOP.
    /// </summary>
    public const int MaxDepth = 5;

    /// <summary>
    /// The format of a file from its first bytes (<paramref name="head"/>, at most <see cref="BufferSize"/> are
    /// used), and for a script its interpreter path and the optional single argument, as the kernel splits them.
    /// </summary>
    public static ExecFormat Parse(ReadOnlySpan<byte> head, out byte[] interpreter, out byte[]? argument)
    {
        interpreter = [];
        argument = null;
        Span<byte> buf = stackalloc byte[BufferSize];
        buf.Clear();
        head[..Math.Min(head.Length, BufferSize)].CopyTo(buf);

        if (buf[0] == 0x7f && buf[1] == (byte)'E' && buf[2] == (byte)'L' && buf[3] == (byte)'F')
        {
            return ExecFormat.Elf;
        }

        if (buf[0] != (byte)'#' || buf[1] != (byte)'!')
        {
            return ExecFormat.Unknown;
        }

        // The comments follow load_script's own steps. A newline means nothing was cut off; without one, the name
        // must be followed by a space, tab or NUL inside the buffer, or it may be truncated and the kernel refuses.
        int bufEnd = BufferSize - 1;
        int end = NewlineBeforeNul(buf);
        if (end < 0)
        {
            end = NextNonSpaceTab(buf, 2, bufEnd);
            if (end < 0 || NextTerminator(buf, end, bufEnd) < 0)
            {
                return ExecFormat.BadScript;
            }

            end = bufEnd;
        }

        // Trailing spaces and tabs are trimmed (buf[1] is '!', so this stops there at the latest).
        while (SpaceTab(buf[end - 1]))
        {
            end--;
        }

        int name = NextNonSpaceTab(buf, 2, end);
        if (name < 0 || name == end)
        {
            return ExecFormat.BadScript;
        }

        int sep = NextTerminator(buf, name, end);
        int arg = sep >= 0 && buf[sep] != 0 ? NextNonSpaceTab(buf, sep, end) : -1;

        // The kernel writes NULs at the end and, when there is an argument, at the separator; both strings are then
        // read up to their first NUL.
        buf[end] = 0;
        if (arg >= 0)
        {
            buf[sep] = 0;
            argument = CString(buf[arg..]);
        }

        interpreter = CString(buf[name..]);
        return ExecFormat.Script;
    }

    private static bool SpaceTab(byte b) => b is (byte)' ' or (byte)'\t';

    /// <summary>strnchr(buf, BINPRM_BUF_SIZE, '\n'): the first newline, looking no further than a NUL.</summary>
    private static int NewlineBeforeNul(ReadOnlySpan<byte> buf)
    {
        for (int i = 0; i < buf.Length && buf[i] != 0; i++)
        {
            if (buf[i] == (byte)'\n')
            {
                return i;
            }
        }

        return -1;
    }

    private static int NextNonSpaceTab(ReadOnlySpan<byte> buf, int first, int last)
    {
        for (; first <= last; first++)
        {
            if (!SpaceTab(buf[first]))
            {
                return first;
            }
        }

        return -1;
    }

    private static int NextTerminator(ReadOnlySpan<byte> buf, int first, int last)
    {
        for (; first <= last; first++)
        {
            if (SpaceTab(buf[first]) || buf[first] == 0)
            {
                return first;
            }
        }

        return -1;
    }

    private static byte[] CString(ReadOnlySpan<byte> s)
    {
        int nul = s.IndexOf((byte)0);
        return (nul >= 0 ? s[..nul] : s).ToArray();
    }
}
