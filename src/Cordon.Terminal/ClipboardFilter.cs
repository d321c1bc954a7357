namespace Cordon.Terminal;

/// <summary>
/// Takes out of the program's output the operating-system commands (OSC) that reach the clipboard: OSC 52 (xterm,
/// tmux, kitty, foot, WezTerm, Windows Terminal: set or read the clipboard), OSC 5522 (kitty's clipboard protocol)
/// and OSC 1337 (iTerm2: copy to the clipboard, and save a "downloaded" file). A sandboxed program must not put text
/// into what the user pastes next, nor read what the user copied (a read answers into the program's input).
/// Everything else passes byte for byte; output without an escape or a 0xC2 byte is not even copied.
/// </summary>
/// <remarks>
/// Every OSC introducer is looked for, wherever it stands (inside another string too, as in tmux's DCS
/// passthrough), so the terminal can never see one of these commands start: when cordon's idea of where a removed
/// command ends differs from the terminal's, what follows reaches the terminal as plain text. Introducers are
/// ESC ] and the UTF-8 form of the C1 code (C2 9D). A number with more than 5 significant digits is removed too:
/// no terminal defines one, and some parse the number into an int that could wrap around to 52.
/// </remarks>
public sealed class ClipboardFilter
{
    private const byte Esc = 0x1b;
    private const byte C1Lead = 0xc2; // UTF-8 lead byte of U+0080..U+00BF
    private const int MaxDigits = 12;

    private readonly byte[] pending = new byte[2 + MaxDigits];
    private byte[] output = new byte[16384];
    private int pendingCount;
    private bool dropping;

    /// <summary>How many commands were removed so far.</summary>
    public int Removed { get; private set; }

    /// <summary>
    /// The bytes to send to the terminal for <paramref name="data"/>: <paramref name="data"/> itself, or a view of an
    /// internal buffer valid until the next call. An unfinished sequence at the end is kept for the next call.
    /// </summary>
    public ReadOnlySpan<byte> Filter(ReadOnlySpan<byte> data)
    {
        if (!dropping && pendingCount == 0 && data.IndexOfAny(Esc, C1Lead) < 0)
        {
            return data;
        }

        ReadOnlySpan<byte> input = data;
        if (pendingCount > 0)
        {
            var joined = new byte[pendingCount + data.Length];
            pending.AsSpan(0, pendingCount).CopyTo(joined);
            data.CopyTo(joined.AsSpan(pendingCount));
            input = joined;
            pendingCount = 0;
        }

        if (output.Length < input.Length)
        {
            output = new byte[input.Length];
        }

        int written = 0;
        int i = 0;
        while (i < input.Length)
        {
            if (dropping)
            {
                int end = EndOfCommand(input, i, out bool needMore);
                if (needMore)
                {
                    Keep(input[end..]);
                    break;
                }

                if (end < 0)
                {
                    break; // the whole rest belongs to the removed command
                }

                dropping = false;
                i = end;
                continue;
            }

            int next = input[i..].IndexOfAny(Esc, C1Lead);
            if (next < 0)
            {
                input[i..].CopyTo(output.AsSpan(written));
                written += input.Length - i;
                break;
            }

            int at = i + next;
            input[i..at].CopyTo(output.AsSpan(written));
            written += at - i;
            if (at + 1 >= input.Length)
            {
                Keep(input[at..]);
                break;
            }

            bool introducer = input[at] == Esc ? input[at + 1] == (byte)']' : input[at + 1] == 0x9d;
            if (!introducer)
            {
                output[written++] = input[at];
                i = at + 1;
                continue;
            }

            int digits = at + 2;
            while (digits < input.Length && digits - (at + 2) < MaxDigits && input[digits] is >= (byte)'0' and <= (byte)'9')
            {
                digits++;
            }

            if (digits == input.Length && digits - (at + 2) < MaxDigits)
            {
                Keep(input[at..]);
                break;
            }

            if (Blocked(input[(at + 2)..digits]))
            {
                Removed++;
                dropping = true;
                i = digits;
                continue;
            }

            input[at..digits].CopyTo(output.AsSpan(written));
            written += digits - at;
            i = digits;
        }

        return output.AsSpan(0, written);
    }

    /// <summary>What is still kept back (an unfinished sequence at the very end of the output), to write as it is.</summary>
    public ReadOnlySpan<byte> Flush()
    {
        byte[] rest = dropping ? [] : pending.AsSpan(0, pendingCount).ToArray();
        pendingCount = 0;
        dropping = false;
        return rest;
    }

    private void Keep(ReadOnlySpan<byte> tail)
    {
        tail.CopyTo(pending);
        pendingCount = tail.Length;
    }

    private static bool Blocked(ReadOnlySpan<byte> digits)
    {
        int start = 0;
        while (start < digits.Length && digits[start] == (byte)'0')
        {
            start++;
        }

        var significant = digits[start..];
        return significant.Length > 5 || significant.SequenceEqual("52"u8) || significant.SequenceEqual("5522"u8) || significant.SequenceEqual("1337"u8);
    }

    /// <summary>
    /// Where a removed command ends (the index after its terminator), -1 when it does not end in
    /// <paramref name="input"/>, or the index to keep from when the last byte may begin a terminator. A command ends
    /// at BEL, ST (ESC \, C2 9C, 9C), CAN or SUB; any other ESC ends it too and starts a sequence of its own, which is
    /// then looked at like all output (VT500 parser: ESC in a string leaves the string).
    /// </summary>
    private static int EndOfCommand(ReadOnlySpan<byte> input, int from, out bool needMore)
    {
        needMore = false;
        for (int i = from; i < input.Length; i++)
        {
            switch (input[i])
            {
                case 0x07 or 0x18 or 0x1a or 0x9c:
                    return i + 1;
                case Esc or C1Lead:
                    if (i + 1 >= input.Length)
                    {
                        needMore = true;
                        return i;
                    }

                    if (input[i] == Esc)
                    {
                        return input[i + 1] == (byte)'\\' ? i + 2 : i;
                    }

                    if (input[i + 1] == 0x9c)
                    {
                        return i + 2;
                    }

                    break;
            }
        }

        return -1;
    }
}
