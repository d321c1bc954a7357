using System.Globalization;
using System.Text;

namespace Cordon.Terminal;

/// <summary>
/// A shadow copy of the program's screen, built from every byte it writes: a small VT parser over a grid of cells
/// (characters with their SGR attributes), the cursor, the scroll region and the modes that move text. After a
/// question drawn over a full-screen program, <see cref="Repaint"/> gives the bytes that draw the screen again exactly
/// as the program left it, because a program asked to redraw (SIGWINCH) may draw less than it had (vim clears its
/// message line) or nothing (less waiting in "(press RETURN)").
/// The model is only as good as its parser, so it says when it cannot be trusted (<see cref="Trusted"/>): a
/// sequence it does not know that could move or change text (DECALN, rectangle operations, DEC double width, an
/// unknown CSI), a combining or zero-width character (whose width terminals disagree on), or a size change. A
/// full erase of the screen (ED 2), a reset (RIS) or entering the alternate screen with 1049 makes it exact again.
/// </summary>
public sealed class ScreenModel
{
    private const int MaxParams = 16;

    private readonly Dictionary<string, int> attrIds = new(StringComparer.Ordinal) { [""] = 0 };
    private readonly List<string> attrs = [""];
    private readonly int[] param = new int[MaxParams];
    private readonly StringBuilder csiRaw = new();
    private Grid main;
    private Grid alt;
    private Grid screen;
    private State state;
    private int paramCount;
    private byte csiPrivate;
    private byte csiIntermediate;
    private int utf8Need;
    private int utf8Code;
    private bool stringEscape;
    private byte charsetTarget;

    // SGR pieces: the current attributes are kept as parts and interned as one canonical SGR string per cell.
    private int sgrFlags;
    private string sgrFg = "";
    private string sgrBg = "";
    private int attr;
    private int blank; // erased and scrolled-in cells get the current background only, as xterm and tmux do

    private enum State : byte { Ground, Escape, Charset, Csi, Str, Ignore }

    public ScreenModel(int rows, int columns)
    {
        main = new Grid(Math.Max(1, rows), Math.Max(1, columns));
        alt = new Grid(main.Rows, main.Cols);
        screen = main;
    }

    public int Rows => screen.Rows;

    public int Columns => screen.Cols;

    /// <summary>Whether the program is on the alternate screen (1049, 1047, 47): a full-screen program.</summary>
    public bool AltScreen => screen == alt;

    /// <summary>
    /// False after something the model does not follow; then only the program can redraw its screen. Also false
    /// while the cursor is outside the scroll region in origin mode (DECRC can put it there), where no cursor move a
    /// repaint could send reaches it.
    /// </summary>
    public bool Trusted
    {
        get => trusted && !(screen.Origin && (screen.Row < screen.Top || screen.Row > screen.Bottom));
        private set => trusted = value;
    }

    private bool trusted = true;

    public bool CursorVisible { get; private set; } = true;

    public (int Row, int Column) Cursor => (screen.Row, screen.Col);

    /// <summary>The text of a row (wide characters once, trailing blanks kept), for tests.</summary>
    public string RowText(int row)
    {
        var sb = new StringBuilder();
        for (int c = 0; c < screen.Cols; c++)
        {
            int ch = screen.Chars[(row * screen.Cols) + c];
            if (ch != Grid.WideTail)
            {
                sb.Append(char.ConvertFromUtf32(ch));
            }
        }

        return sb.ToString();
    }

    /// <summary>The SGR string ("1;31", "" for none) of a cell, for tests.</summary>
    public string CellAttributes(int row, int column) => attrs[screen.Attrs[(row * screen.Cols) + column]];

    /// <summary>The window changed size: the terminal reflows or cuts its screen its own way, so the copy is no longer exact.</summary>
    public void Resize(int rows, int columns)
    {
        if (rows == main.Rows && columns == main.Cols)
        {
            return;
        }

        bool onAlt = AltScreen;
        main = main.Resized(Math.Max(1, rows), Math.Max(1, columns));
        alt = alt.Resized(main.Rows, main.Cols);
        screen = onAlt ? alt : main;
        Trusted = false;
    }

    public void Feed(ReadOnlySpan<byte> data)
    {
        for (int i = 0; i < data.Length; i++)
        {
            byte b = data[i];
            if (state == State.Ground && utf8Need == 0 && b >= 0x20 && b < 0x7f)
            {
                Print(b);
                continue;
            }

            Step(b);
        }
    }

    private void Step(byte b)
    {
        switch (state)
        {
            case State.Ground:
                Ground(b);
                break;
            case State.Escape:
                EscapeByte(b);
                break;
            case State.Charset:
                screen.Charset[charsetTarget] = b == (byte)'0';
                state = State.Ground;
                break;
            case State.Csi:
                CsiByte(b);
                break;
            case State.Str:
                // OSC, DCS, APC, PM, SOS: nothing on the screen; they end at BEL or ST (ESC \).
                if (b == 0x07 || (stringEscape && b == (byte)'\\'))
                {
                    state = State.Ground;
                }

                stringEscape = b == 0x1b;
                break;
            case State.Ignore:
                // An escape sequence with intermediates the model does not use: its final byte ends it.
                if (b >= 0x30)
                {
                    state = State.Ground;
                }

                break;
        }
    }

    private void Ground(byte b)
    {
        if (utf8Need > 0)
        {
            if ((b & 0xc0) == 0x80)
            {
                utf8Code = (utf8Code << 6) | (b & 0x3f);
                if (--utf8Need == 0)
                {
                    PrintCode(utf8Code);
                }

                return;
            }

            utf8Need = 0;
            PrintCode(0xfffd);
        }

        if (b >= 0xc2 && b <= 0xf4)
        {
            utf8Need = b >= 0xf0 ? 3 : b >= 0xe0 ? 2 : 1;
            utf8Code = b & (0x3f >> utf8Need);
            return;
        }

        if (b >= 0x80)
        {
            PrintCode(0xfffd);
            return;
        }

        switch (b)
        {
            case 0x1b:
                state = State.Escape;
                break;
            case (byte)'\r':
                screen.Col = 0;
                screen.PendingWrap = false;
                break;
            case (byte)'\n' or 0x0b or 0x0c:
                LineFeed();
                break;
            case 0x08:
                if (screen.Col > 0 && !screen.PendingWrap)
                {
                    screen.Col--;
                }

                screen.PendingWrap = false;
                break;
            case (byte)'\t':
                screen.Col = Math.Min(screen.Cols - 1, ((screen.Col / 8) + 1) * 8);
                screen.PendingWrap = false;
                break;
            case 0x0e:
                screen.Shifted = true;
                break;
            case 0x0f:
                screen.Shifted = false;
                break;
            case 0x7f:
                break;
            default:
                if (b >= 0x20)
                {
                    Print(b);
                }

                break; // BEL and the other C0 controls do nothing on the screen
        }
    }

    private void EscapeByte(byte b)
    {
        state = State.Ground;
        switch ((char)b)
        {
            case '[':
                state = State.Csi;
                paramCount = 0;
                csiPrivate = 0;
                csiIntermediate = 0;
                Array.Clear(param);
                break;
            case ']' or 'P' or '_' or '^' or 'X':
                state = State.Str;
                stringEscape = false;
                break;
            case '(' or ')' or '*' or '+':
                charsetTarget = (byte)(b - '(');
                state = State.Charset;
                break;
            case '7':
                screen.Save();
                break;
            case '8':
                screen.Restore();
                break;
            case 'D':
                LineFeed();
                break;
            case 'E':
                LineFeed();
                screen.Col = 0;
                break;
            case 'M':
                ReverseIndex();
                break;
            case 'c':
                main = new Grid(main.Rows, main.Cols);
                alt = new Grid(main.Rows, main.Cols);
                screen = main;
                SetSgr([0], 1);
                CursorVisible = true;
                Trusted = true;
                break;
            case '=' or '>' or '\\':
                break; // keypad modes; a lone ST
            case ' ' or '#' or '%':
                // ESC # 8 (DECALN fills the screen) and ESC # 3..6 (double width) change what is shown.
                if (b == '#')
                {
                    Trusted = false;
                }

                state = State.Ignore;
                break;
            default:
                Trusted = false;
                break;
        }
    }

    private void CsiByte(byte b)
    {
        if (b >= (byte)'0' && b <= (byte)'9')
        {
            if (paramCount == 0)
            {
                paramCount = 1;
            }

            if (paramCount <= MaxParams)
            {
                ref int p = ref param[paramCount - 1];
                p = Math.Min(99999, (p * 10) + (b - '0'));
            }

            return;
        }

        if (b == (byte)';' || b == (byte)':')
        {
            paramCount = Math.Max(paramCount, 1) + 1;
            return;
        }

        if (b >= 0x3c && b <= 0x3f)
        {
            csiPrivate = b;
            return;
        }

        if (b >= 0x20 && b <= 0x2f)
        {
            csiIntermediate = b;
            return;
        }

        if (b < 0x20)
        {
            if (b == 0x1b)
            {
                state = State.Escape;
                return;
            }

            Ground(b); // C0 controls act inside a CSI
            return;
        }

        state = State.Ground;
        int n = Math.Min(paramCount, MaxParams);
                Csi((char)b, n);
    }

    private int P(int i, int n, int fallback) => i < n && param[i] > 0 ? param[i] : fallback;

    private void Csi(char final, int n)
    {
        var s = screen;
        if (csiIntermediate != 0)
        {
            // Sequences with an intermediate byte that change cells or modes the model follows: rectangle fills,
            // erases, copies and attribute changes ("$ x", "$ z", "$ v", "$ r", "$ t", "$ {"), inserting and deleting
            // columns ("' }", "' ~"), shifting left and right (" @", " A"), a soft reset (DECSTR, "! p"). The rest
            // (cursor style " q", mode queries "$ p", vim's "% m" probe) leave the screen alone.
            if ((csiIntermediate == '$' && final is 'x' or 'z' or 'v' or 'r' or 't' or '{')
                || (csiIntermediate == '\'' && final is '}' or '~')
                || (csiIntermediate == ' ' && final is '@' or 'A')
                || (csiIntermediate == '!' && final == 'p'))
            {
                Trusted = false;
            }

            return;
        }

        if (csiPrivate != 0 && csiPrivate != '?')
        {
            // "CSI > ... c" (secondary device attributes), "CSI > ... m" (key modifiers), "CSI = ... c": queries and
            // keyboard settings.
            if (final is not ('c' or 'm' or 'n' or 'u' or 'q' or 't'))
            {
                Trusted = false;
            }

            return;
        }

        if (csiPrivate == '?')
        {
            switch (final)
            {
                case 'h':
                case 'l':
                    for (int i = 0; i < Math.Max(n, 1); i++)
                    {
                        PrivateMode(param[i], final == 'h');
                    }

                    break;
                case 'J' or 'K':
                    goto Plain; // DECSED/DECSEL: the model has no protected cells, so they erase like ED/EL
                case 'n' or 'u' or 's' or 'r' or 'p' or 'c' or 'm':
                    break; // reports, kitty keyboard flags, save/restore of modes, mode queries
                default:
                    Trusted = false;
                    break;
            }

            return;
        }

    Plain:
        int p0 = P(0, n, 1);
        switch (final)
        {
            case '@':
                s.InsertCells(p0, blank);
                break;
            case 'A':
                s.MoveTo(Math.Max(s.Row - p0, s.Row >= s.Top ? s.Top : 0), s.Col);
                break;
            case 'B' or 'e':
                s.MoveTo(Math.Min(s.Row + p0, s.Row <= s.Bottom ? s.Bottom : s.Rows - 1), s.Col);
                break;
            case 'C' or 'a':
                s.MoveTo(s.Row, s.Col + p0);
                break;
            case 'D':
                s.MoveTo(s.Row, s.Col - p0);
                break;
            case 'E':
                s.MoveTo(Math.Min(s.Row + p0, s.Row <= s.Bottom ? s.Bottom : s.Rows - 1), 0);
                break;
            case 'F':
                s.MoveTo(Math.Max(s.Row - p0, s.Row >= s.Top ? s.Top : 0), 0);
                break;
            case 'G' or '`':
                s.MoveTo(s.Row, p0 - 1);
                break;
            case 'H' or 'f':
                s.MoveTo((s.Origin ? s.Top : 0) + P(0, n, 1) - 1, P(1, n, 1) - 1, s.Origin);
                break;
            case 'd':
                s.MoveTo((s.Origin ? s.Top : 0) + p0 - 1, s.Col, s.Origin);
                break;
            case 'I':
                for (int i = 0; i < p0; i++)
                {
                    s.MoveTo(s.Row, Math.Min(s.Cols - 1, ((s.Col / 8) + 1) * 8));
                }

                break;
            case 'Z':
                for (int i = 0; i < p0; i++)
                {
                    s.MoveTo(s.Row, s.Col == 0 ? 0 : ((s.Col - 1) / 8) * 8);
                }

                break;
            case 'J':
                EraseDisplay(n > 0 ? param[0] : 0);
                break;
            case 'K':
                int mode = n > 0 ? param[0] : 0;
                s.Erase(s.Row, mode == 0 ? s.Col : 0, mode == 1 || mode == 2 ? (mode == 2 ? s.Cols : s.Col + 1) : s.Cols, blank);
                s.PendingWrap = false;
                break;
            case 'X':
                s.Erase(s.Row, s.Col, Math.Min(s.Cols, s.Col + p0), blank);
                s.PendingWrap = false;
                break;
            case 'P':
                s.DeleteCells(p0, blank);
                break;
            case 'L':
                if (s.Row >= s.Top && s.Row <= s.Bottom)
                {
                    s.ScrollDown(s.Row, s.Bottom, p0, blank);
                    s.Col = 0;
                    s.PendingWrap = false;
                }

                break;
            case 'M':
                if (s.Row >= s.Top && s.Row <= s.Bottom)
                {
                    s.ScrollUp(s.Row, s.Bottom, p0, blank);
                    s.Col = 0;
                    s.PendingWrap = false;
                }

                break;
            case 'S':
                s.ScrollUp(s.Top, s.Bottom, p0, blank);
                break;
            case 'T':
                s.ScrollDown(s.Top, s.Bottom, p0, blank);
                break;
            case 'b':
                RepeatLast(p0);
                break;
            case 'm':
                SetSgr(param, n);
                break;
            case 'r':
                int top = P(0, n, 1) - 1;
                int bottom = Math.Min(P(1, n, s.Rows), s.Rows) - 1;
                if (top < bottom)
                {
                    s.Top = top;
                    s.Bottom = bottom;
                    s.MoveTo(s.Origin ? s.Top : 0, 0, s.Origin);
                }

                break;
            case 'h' or 'l':
                for (int i = 0; i < Math.Max(n, 1); i++)
                {
                    if (param[i] == 4)
                    {
                        s.Insert = final == 'h';
                    }
                    else if (param[i] != 20 && param[i] != 12 && param[i] != 2)
                    {
                        Trusted = false;
                    }
                }

                break;
            case 'g' or 'n' or 'c' or 't' or 'q' or 's' or 'u' or 'x' or 'i':
                // Tab stops cleared (the model keeps fixed stops: see README), reports, window operations, LEDs,
                // SCOSC/SCORC (save and restore the cursor).
                if (final == 's' && n == 0)
                {
                    s.Save();
                }
                else if (final == 'u' && n == 0)
                {
                    s.Restore();
                }
                else if (final == 'g')
                {
                    Trusted = false;
                }

                break;
            default:
                Trusted = false;
                break;
        }
    }

    private void PrivateMode(int mode, bool on)
    {
        switch (mode)
        {
            case 1049:
                if (on && !AltScreen)
                {
                    main.Save();
                    alt.CopyCursor(main);
                    screen = alt;
                    screen.Clear(blank);
                    Trusted = true;
                }
                else if (!on && AltScreen)
                {
                    alt.Clear(0);
                    screen = main;
                    main.Restore();
                }

                break;
            case 1047 or 47:
                if (on && !AltScreen)
                {
                    alt.CopyCursor(main);
                    screen = alt;
                }
                else if (!on && AltScreen)
                {
                    if (mode == 1047)
                    {
                        alt.Clear(0);
                    }

                    main.CopyCursor(alt);
                    screen = main;
                }

                break;
            case 1048:
                if (on)
                {
                    screen.Save();
                }
                else
                {
                    screen.Restore();
                }

                break;
            case 25:
                CursorVisible = on;
                break;
            case 6:
                screen.Origin = on;
                screen.MoveTo(on ? screen.Top : 0, 0, on);
                break;
            case 7:
                // Resetting autowrap also drops a pending wrap (DEC's last column flag): the cursor stays on the last
                // column, and the next character overwrites it, as a repaint with autowrap off reproduces.
                screen.AutoWrap = on;
                screen.PendingWrap &= on;
                break;
            case 3 or 5 or 69 or 2 or 95:
                // 132 columns (DECCOLM clears the screen), reverse video, left/right margins, VT52: not followed.
                Trusted = false;
                break;
            default:
                break; // cursor keys, mouse, bracketed paste, focus, blinking cursor: nothing on the screen
        }
    }

    private void EraseDisplay(int mode)
    {
        var s = screen;
        s.PendingWrap = false;
        switch (mode)
        {
            case 0:
                s.Erase(s.Row, s.Col, s.Cols, blank);
                for (int r = s.Row + 1; r < s.Rows; r++)
                {
                    s.Erase(r, 0, s.Cols, blank);
                }

                break;
            case 1:
                for (int r = 0; r < s.Row; r++)
                {
                    s.Erase(r, 0, s.Cols, blank);
                }

                s.Erase(s.Row, 0, s.Col + 1, blank);
                break;
            case 2 or 3:
                for (int r = 0; r < s.Rows; r++)
                {
                    s.Erase(r, 0, s.Cols, blank);
                }

                if (mode == 2)
                {
                    Trusted = true; // every cell is known again
                }

                break;
        }
    }

    private void LineFeed()
    {
        var s = screen;
        s.PendingWrap = false;
        if (s.Row == s.Bottom)
        {
            s.ScrollUp(s.Top, s.Bottom, 1, blank);
        }
        else if (s.Row < s.Rows - 1)
        {
            s.Row++;
        }
    }

    private void ReverseIndex()
    {
        var s = screen;
        s.PendingWrap = false;
        if (s.Row == s.Top)
        {
            s.ScrollDown(s.Top, s.Bottom, 1, blank);
        }
        else if (s.Row > 0)
        {
            s.Row--;
        }
    }

    private int lastPrinted = ' ';

    private void RepeatLast(int count)
    {
        for (int i = 0; i < Math.Min(count, screen.Rows * screen.Cols); i++)
        {
            PrintCode(lastPrinted);
        }
    }

    private static readonly string DecGraphics = "◆▒␉␌␍␊°±␤␋┘┐┌└┼⎺⎻─⎼⎽├┤┴┬│≤≥π≠£·";

    private void Print(byte b)
    {
        var s = screen;
        if (s.Charset[s.Shifted ? 1 : 0] && b >= 0x60 && b <= 0x7e)
        {
            PrintCode(DecGraphics[b - 0x60]);
            return;
        }

        if (s.PendingWrap || s.Insert)
        {
            PrintCode(b);
            return;
        }

        // The common case, kept short: an ASCII character with nothing pending.
        int at = (s.Row * s.Cols) + s.Col;
        if (s.Chars[at] == Grid.WideTail || (s.Col + 1 < s.Cols && s.Chars[at + 1] == Grid.WideTail))
        {
            PrintCode(b);
            return;
        }

        s.Chars[at] = b;
        s.Attrs[at] = attr;
        lastPrinted = b;
        if (s.Col + 1 < s.Cols)
        {
            s.Col++;
        }
        else if (s.AutoWrap)
        {
            s.PendingWrap = true;
        }
    }

    private void PrintCode(int code)
    {
        var s = screen;
        int width = Width(code);
        if (width == 0)
        {
            // A combining mark or zero-width character joins the cell before it on a real terminal, and terminals
            // disagree on which are which: the model does not keep them.
            Trusted = false;
            return;
        }

        if (s.PendingWrap)
        {
            s.PendingWrap = false;
            s.Col = 0;
            LineFeed();
        }

        if (width == 2 && s.Col == s.Cols - 1)
        {
            if (!s.AutoWrap)
            {
                return;
            }

            s.Erase(s.Row, s.Col, s.Cols, blank);
            s.Col = 0;
            LineFeed();
        }

        if (s.Insert)
        {
            s.InsertCells(width, blank);
        }

        s.Put(s.Row, s.Col, code, attr, width);
        lastPrinted = code;
        if (s.Col + width < s.Cols)
        {
            s.Col += width;
        }
        else if (s.AutoWrap)
        {
            s.Col = s.Cols - 1;
            s.PendingWrap = true;
        }
        else
        {
            s.Col = s.Cols - 1;
        }
    }

    /// <summary>Columns a character takes: 2 for East Asian wide and emoji, 0 for combining and format characters.</summary>
    internal static int Width(int code)
    {
        if (code < 0x300)
        {
            return 1;
        }

        if (code is >= 0x1100 and <= 0x115f or >= 0x2e80 and <= 0x303e or >= 0x3041 and <= 0x33ff or >= 0x3400 and <= 0x4dbf
            or >= 0x4e00 and <= 0x9fff or >= 0xa000 and <= 0xa4cf or >= 0xac00 and <= 0xd7a3 or >= 0xf900 and <= 0xfaff
            or >= 0xfe30 and <= 0xfe4f or >= 0xff00 and <= 0xff60 or >= 0xffe0 and <= 0xffe6 or >= 0x1f300 and <= 0x1f64f
            or >= 0x1f900 and <= 0x1f9ff or >= 0x20000 and <= 0x3fffd)
        {
            return 2;
        }

        var category = code <= 0xffff ? CharUnicodeInfo.GetUnicodeCategory((char)code) : CharUnicodeInfo.GetUnicodeCategory(char.ConvertFromUtf32(code), 0);
        return category is UnicodeCategory.NonSpacingMark or UnicodeCategory.EnclosingMark or UnicodeCategory.Format ? 0 : 1;
    }

    private const int Bold = 1, Dim = 2, Italic = 4, Underline = 8, Blink = 16, Reverse = 32, Hidden = 64, Strike = 128;

    private void SetSgr(int[] p, int n)
    {
        if (n == 0)
        {
            n = 1; // CSI m is CSI 0 m
        }

        for (int i = 0; i < n; i++)
        {
            int v = p[i];
            switch (v)
            {
                case 0:
                    sgrFlags = 0;
                    sgrFg = sgrBg = "";
                    break;
                case >= 1 and <= 9:
                    sgrFlags |= v switch { 1 => Bold, 2 => Dim, 3 => Italic, 4 => Underline, 5 or 6 => Blink, 7 => Reverse, 8 => Hidden, _ => Strike };
                    break;
                case 21:
                    sgrFlags |= Underline;
                    break;
                case 22:
                    sgrFlags &= ~(Bold | Dim);
                    break;
                case 23 or 24 or 25 or 27 or 28 or 29:
                    sgrFlags &= ~(v switch { 23 => Italic, 24 => Underline, 25 => Blink, 27 => Reverse, 28 => Hidden, _ => Strike });
                    break;
                case >= 30 and <= 37 or >= 90 and <= 97:
                    sgrFg = v.ToString(CultureInfo.InvariantCulture);
                    break;
                case 39:
                    sgrFg = "";
                    break;
                case >= 40 and <= 47 or >= 100 and <= 107:
                    sgrBg = v.ToString(CultureInfo.InvariantCulture);
                    break;
                case 49:
                    sgrBg = "";
                    break;
                case 38 or 48:
                    string color;
                    if (i + 2 < n && p[i + 1] == 5)
                    {
                        color = $"{v};5;{p[i + 2]}";
                        i += 2;
                    }
                    else if (i + 4 < n && p[i + 1] == 2)
                    {
                        color = $"{v};2;{p[i + 2]};{p[i + 3]};{p[i + 4]}";
                        i += 4;
                    }
                    else
                    {
                        i = n;
                        break;
                    }

                    if (v == 38)
                    {
                        sgrFg = color;
                    }
                    else
                    {
                        sgrBg = color;
                    }

                    break;
                default:
                    break; // underline colours and styles, fonts: kept by the terminal, not in the model
            }
        }

        var sb = new StringBuilder();
        int[] codes = [1, 2, 3, 4, 5, 7, 8, 9];
        for (int bit = 0; bit < 8; bit++)
        {
            if ((sgrFlags & (1 << bit)) != 0)
            {
                sb.Append(sb.Length > 0 ? ";" : "").Append(codes[bit]);
            }
        }

        foreach (var c in new[] { sgrFg, sgrBg })
        {
            if (c.Length > 0)
            {
                sb.Append(sb.Length > 0 ? ";" : "").Append(c);
            }
        }

        attr = Intern(sb.ToString());
        blank = Intern(sgrBg);
    }

    private int Intern(string key)
    {
        if (!attrIds.TryGetValue(key, out int id))
        {
            id = attrs.Count;
            attrs.Add(key);
            attrIds[key] = id;
        }

        return id;
    }

    /// <summary>
    /// Bytes that draw the current screen over whatever the terminal shows, and leave the cursor where the program
    /// had it, visible or hidden as it was, with the program's SGR, scroll region and origin mode untouched (the
    /// scroll region is not changed; origin and insert mode are switched off while drawing and back on after).
    /// </summary>
    public byte[] Repaint()
    {
        var s = screen;
        var sb = new StringBuilder("\u001b[?25l");
        if (s.Origin)
        {
            sb.Append("\u001b[?6l");
        }

        if (s.Insert)
        {
            sb.Append("\u001b[4l");
        }

        if (s.Charset[0] || s.Charset[1] || s.Shifted)
        {
            sb.Append("\u001b(B\u000f");
        }

        int current = -1;
        for (int r = 0; r < s.Rows; r++)
        {
            sb.Append("\u001b[").Append(r + 1).Append('H');
            for (int c = 0; c < s.Cols; c++)
            {
                int at = (r * s.Cols) + c;
                int ch = s.Chars[at];
                if (ch == Grid.WideTail)
                {
                    continue;
                }

                if (s.Attrs[at] != current)
                {
                    current = s.Attrs[at];
                    sb.Append("\u001b[0").Append(current == 0 ? "" : ";").Append(attrs[current]).Append('m');
                }

                sb.Append(char.ConvertFromUtf32(ch));
            }
        }

        // Origin mode first (setting it homes the cursor), then the cursor: where it was, and "about to wrap" when
        // it was (its last cell written again gets it there), then the charsets and insert mode, which would change
        // what the repaint itself writes.
        int top = s.Origin ? s.Top : 0;
        if (s.Origin)
        {
            sb.Append("\u001b[?6h");
        }

        if (s.PendingWrap)
        {
            int col = s.Chars[(s.Row * s.Cols) + s.Cols - 1] == Grid.WideTail ? s.Cols - 2 : s.Cols - 1;
            int at = (s.Row * s.Cols) + col;
            sb.Append("\u001b[").Append(s.Row + 1 - top).Append(';').Append(col + 1).Append('H');
            sb.Append("\u001b[0").Append(s.Attrs[at] == 0 ? "" : ";").Append(attrs[s.Attrs[at]]).Append('m');
            sb.Append(char.ConvertFromUtf32(s.Chars[at]));
        }
        else
        {
            sb.Append("\u001b[").Append(s.Row + 1 - top).Append(';').Append(s.Col + 1).Append('H');
        }

        if (s.Charset[0] || s.Charset[1])
        {
            sb.Append(s.Charset[0] ? "\u001b(0" : "").Append(s.Charset[1] ? "\u001b)0" : "");
        }

        if (s.Shifted)
        {
            sb.Append('\u000e');
        }

        if (s.Insert)
        {
            sb.Append("\u001b[4h");
        }

        sb.Append("\u001b[0").Append(attr == 0 ? "" : ";").Append(attrs[attr]).Append('m');
        if (CursorVisible)
        {
            sb.Append("\u001b[?25h");
        }

        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    /// <summary>One screen (main or alternate): its cells, cursor, scroll region, modes and saved cursor.</summary>
    private sealed class Grid
    {
        public const int WideTail = -1;

        public Grid(int rows, int cols)
        {
            Rows = rows;
            Cols = cols;
            Chars = new int[rows * cols];
            Attrs = new int[rows * cols];
            Array.Fill(Chars, ' ');
            Bottom = rows - 1;
            saved = new Saved(0, 0, false, false);
        }

        private record struct Saved(int Row, int Col, bool Origin, bool Wrap);

        private Saved saved;

        public int Rows { get; }

        public int Cols { get; }

        public int[] Chars { get; }

        public int[] Attrs { get; }

        public bool[] Charset { get; } = new bool[4];

        public int Row { get; set; }

        public int Col { get; set; }

        public int Top { get; set; }

        public int Bottom { get; set; }

        public bool PendingWrap { get; set; }

        public bool AutoWrap { get; set; } = true;

        public bool Origin { get; set; }

        public bool Insert { get; set; }

        public bool Shifted { get; set; }

        public Grid Resized(int rows, int cols)
        {
            var g = new Grid(rows, cols);
            for (int r = 0; r < Math.Min(rows, Rows); r++)
            {
                Array.Copy(Chars, r * Cols, g.Chars, r * cols, Math.Min(cols, Cols));
                Array.Copy(Attrs, r * Cols, g.Attrs, r * cols, Math.Min(cols, Cols));
            }

            g.Row = Math.Min(Row, rows - 1);
            g.Col = Math.Min(Col, cols - 1);
            g.AutoWrap = AutoWrap;
            return g;
        }

        public void Save() => saved = new Saved(Row, Col, Origin, PendingWrap);

        public void Restore()
        {
            Row = Math.Min(saved.Row, Rows - 1);
            Col = Math.Min(saved.Col, Cols - 1);
            Origin = saved.Origin;
            PendingWrap = saved.Wrap;
        }

        public void CopyCursor(Grid other)
        {
            Row = other.Row;
            Col = other.Col;
            PendingWrap = false;
        }

        public void MoveTo(int row, int col, bool inRegion = false)
        {
            int top = inRegion ? Top : 0;
            int bottom = inRegion ? Bottom : Rows - 1;
            Row = Math.Clamp(row, top, bottom);
            Col = Math.Clamp(col, 0, Cols - 1);
            PendingWrap = false;
        }

        public void Clear(int attr)
        {
            for (int r = 0; r < Rows; r++)
            {
                Erase(r, 0, Cols, attr);
            }
        }

        /// <summary>Blanks columns [from, to) of a row with the background of <paramref name="attr"/>; a wide character cut in half goes whole.</summary>
        public void Erase(int row, int from, int to, int attr)
        {
            from = Math.Clamp(from, 0, Cols);
            to = Math.Clamp(to, 0, Cols);
            if (from >= to)
            {
                return;
            }

            int start = row * Cols;
            if (from > 0 && Chars[start + from] == WideTail)
            {
                Chars[start + from - 1] = ' ';
            }

            if (to < Cols && Chars[start + to] == WideTail)
            {
                Chars[start + to] = ' ';
            }

            Array.Fill(Chars, ' ', start + from, to - from);
            Array.Fill(Attrs, attr, start + from, to - from);
        }

        public void Put(int row, int col, int code, int attr, int width)
        {
            int at = (row * Cols) + col;
            // Overwriting half of a wide character leaves a blank in its other half, as terminals do.
            if (Chars[at] == WideTail && col > 0)
            {
                Chars[at - 1] = ' ';
            }

            int end = col + width;
            if (end < Cols && Chars[(row * Cols) + end] == WideTail)
            {
                Chars[(row * Cols) + end] = ' ';
            }

            Chars[at] = code;
            Attrs[at] = attr;
            if (width == 2)
            {
                Chars[at + 1] = WideTail;
                Attrs[at + 1] = attr;
            }
        }

        public void InsertCells(int count, int attr)
        {
            int start = Row * Cols;
            count = Math.Min(count, Cols - Col);
            Array.Copy(Chars, start + Col, Chars, start + Col + count, Cols - Col - count);
            Array.Copy(Attrs, start + Col, Attrs, start + Col + count, Cols - Col - count);
            Array.Fill(Chars, ' ', start + Col, count);
            Array.Fill(Attrs, attr, start + Col, count);
            FixRow(Row);
            PendingWrap = false;
        }

        public void DeleteCells(int count, int attr)
        {
            int start = Row * Cols;
            count = Math.Min(count, Cols - Col);
            Array.Copy(Chars, start + Col + count, Chars, start + Col, Cols - Col - count);
            Array.Copy(Attrs, start + Col + count, Attrs, start + Col, Cols - Col - count);
            Array.Fill(Chars, ' ', start + Cols - count, count);
            Array.Fill(Attrs, attr, start + Cols - count, count);
            FixRow(Row);
            PendingWrap = false;
        }

        /// <summary>After cells moved sideways: a wide character split from its tail becomes blanks.</summary>
        private void FixRow(int row)
        {
            int start = row * Cols;
            for (int c = 0; c < Cols; c++)
            {
                bool isTail = Chars[start + c] == WideTail;
                bool afterWide = c > 0 && Chars[start + c - 1] != WideTail && Width(Chars[start + c - 1]) == 2;
                if (isTail && !afterWide)
                {
                    Chars[start + c] = ' ';
                }
                else if (!isTail && afterWide)
                {
                    Chars[start + c - 1] = ' ';
                }
            }

            if (Chars[start + Cols - 1] != WideTail && Width(Chars[start + Cols - 1]) == 2)
            {
                Chars[start + Cols - 1] = ' ';
            }
        }

        public void ScrollUp(int top, int bottom, int count, int attr)
        {
            count = Math.Min(count, bottom - top + 1);
            int keep = bottom - top + 1 - count;
            Array.Copy(Chars, (top + count) * Cols, Chars, top * Cols, keep * Cols);
            Array.Copy(Attrs, (top + count) * Cols, Attrs, top * Cols, keep * Cols);
            for (int r = bottom - count + 1; r <= bottom; r++)
            {
                Erase(r, 0, Cols, attr);
            }
        }

        public void ScrollDown(int top, int bottom, int count, int attr)
        {
            count = Math.Min(count, bottom - top + 1);
            int keep = bottom - top + 1 - count;
            Array.Copy(Chars, top * Cols, Chars, (top + count) * Cols, keep * Cols);
            Array.Copy(Attrs, top * Cols, Attrs, (top + count) * Cols, keep * Cols);
            for (int r = top; r < top + count; r++)
            {
                Erase(r, 0, Cols, attr);
            }
        }
    }
}
