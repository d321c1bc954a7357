using System.Text;

namespace Cordon.Terminal;

/// <summary>
/// Text that comes from the sandboxed program (paths, command lines) shown on cordon's terminal. A program chooses
/// its file names and arguments: unescaped, they could move the cursor, hide part of a prompt or draw a fake one.
/// </summary>
public static class Display
{
    /// <summary>Control characters, C1 codes and bidirectional controls made visible as \e, \n, \u202e ...</summary>
    public static string Escape(string s)
    {
        var sb = new StringBuilder(s.Length);
        foreach (var ch in s)
        {
            if (ch < 0x20 || ch == 0x7f || (ch >= 0x80 && ch < 0xa0) || IsBidiControl(ch))
            {
                sb.Append(ch switch
                {
                    '\n' => "\\n",
                    '\t' => "\\t",
                    '\r' => "\\r",
                    '\x1b' => "\\e",
                    _ => $"\\u{(int)ch:x4}",
                });
            }
            else
            {
                sb.Append(ch);
            }
        }

        return sb.ToString();
    }

    /// <summary>Escapes and caps the length, so that a 100 kB argument cannot push the answers off the screen.</summary>
    public static string Short(string s, int max)
    {
        var e = Escape(s);
        return e.Length <= max ? e : string.Concat(e.AsSpan(0, Math.Max(0, max - 1)), "…");
    }

    // Bidirectional overrides and isolates can reorder what a person reads (CVE-2021-42574, "Trojan Source").
    private static bool IsBidiControl(char ch) =>
        ch is '\u061c' or '\u200e' or '\u200f' or (>= '\u202a' and <= '\u202e') or (>= '\u2066' and <= '\u2069');
}
