using System.Text;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Xunit;

namespace Cordon.Terminal.Tests;

/// <summary>The shadow screen (issue 18.6): each sequence it follows, and that its repaint draws the same screen.</summary>
public sealed class ScreenModelTests
{
    private static ScreenModel Fed(string text, int rows = 5, int cols = 10)
    {
        var m = new ScreenModel(rows, cols);
        m.Feed(Encoding.UTF8.GetBytes(text));
        return m;
    }

    private static string[] Rows(ScreenModel m) => Enumerable.Range(0, m.Rows).Select(m.RowText).ToArray();

    [Fact]
    public void The_alternate_screen_is_followed_across_split_writes()
    {
        var m = new ScreenModel(5, 10);
        m.Feed("hello \u001b[?10"u8);
        Assert.False(m.AltScreen);
        m.Feed("49h drawing"u8);
        Assert.True(m.AltScreen);
        m.Feed("\u001b[?1049l"u8);
        Assert.False(m.AltScreen);
        m.Feed("\u001b[?1049h\u001b[?1049l\u001b[?1049h"u8);
        Assert.True(m.AltScreen);
    }

    [Fact]
    public void The_alternate_screen_starts_empty_and_the_main_screen_comes_back_with_its_cursor()
    {
        var m = Fed("main\r\nxy\u001b[?1049h\u001b[2;3Halt");
        Assert.Equal("          ", m.RowText(0));
        Assert.Equal("  alt     ", m.RowText(1));
        m.Feed("\u001b[?1049l"u8);
        Assert.Equal("main      ", m.RowText(0));
        Assert.Equal("xy        ", m.RowText(1));
        Assert.Equal((1, 2), m.Cursor);
        m.Feed("\u001b[?47hA\u001b[?47l"u8); // 47 does not save the cursor: it comes back where the alternate screen left it
        Assert.Equal("xy        ", m.RowText(1));
        Assert.Equal((1, 3), m.Cursor);
    }

    [Fact]
    public void Text_wraps_at_the_last_column_only_when_more_comes()
    {
        var m = Fed("0123456789");
        Assert.Equal((0, 9), m.Cursor);
        m.Feed("a"u8);
        Assert.Equal("a         ", m.RowText(1));
        var noWrap = Fed("\u001b[?7l0123456789XY");
        Assert.Equal("012345678Y", noWrap.RowText(0));
    }

    [Fact]
    public void Wide_characters_take_two_cells_and_wrap_whole()
    {
        var m = Fed("12345678\u4e2d\u6587");
        Assert.Equal("12345678\u4e2d", m.RowText(0));
        Assert.Equal("\u6587        ", m.RowText(1));
        m.Feed("\u001b[2;2HX"u8); // over the wide character's right half: its left half goes too
        Assert.Equal(" X        ", m.RowText(1));
    }

    [Fact]
    public void Cursor_moves_are_followed()
    {
        var m = Fed("\u001b[3;4Ha\u001b[2Ab\u001b[1Bc\u001b[3Dd\u001b[2Ce\u001b[8Gf\u001b[5dg\u001b[1;1H\u001b[2Eh\u001b[1Fi");
        Assert.Equal(["    b     ", "i  d cef  ", "h  a      ", "          ", "        g "], Rows(m));
    }

    [Fact]
    public void Erases_and_inserts_and_deletes_change_the_cells_they_name()
    {
        var m = Fed("abcdefghij\r\nklmnopqrst\r\nuvwxyz\u001b[1;5H\u001b[K\u001b[2;3H\u001b[1K\u001b[3;2H\u001b[2X");
        Assert.Equal("abcd      ", m.RowText(0));
        Assert.Equal("   nopqrst", m.RowText(1));
        Assert.Equal("u  xyz    ", m.RowText(2));
        m.Feed("\u001b[2;4H\u001b[2P\u001b[3;1H\u001b[3@"u8);
        Assert.Equal("   pqrst  ", m.RowText(1));
        Assert.Equal("   u  xyz ", m.RowText(2));
        m.Feed("\u001b[2;1H\u001b[J"u8);
        Assert.Equal(["abcd      ", "          ", "          "], Rows(m)[..3]);
        m.Feed("\u001b[1;3H\u001b[1J"u8); // up to and with the cursor's cell
        Assert.Equal("   d      ", m.RowText(0));
    }

    [Fact]
    public void Lines_are_inserted_and_deleted_inside_the_scroll_region()
    {
        var m = Fed("r0\r\nr1\r\nr2\r\nr3\r\nr4\u001b[2;4r\u001b[3;1H\u001b[L");
        Assert.Equal(["r0", "r1", "  ", "r2", "r4"], Rows(m).Select(r => r[..2]).ToArray());
        m.Feed("\u001b[2;1H\u001b[2M"u8);
        Assert.Equal(["r0", "r2", "  ", "  ", "r4"], Rows(m).Select(r => r[..2]).ToArray());
    }

    [Fact]
    public void Scrolling_keeps_to_the_scroll_region()
    {
        var m = Fed("r0\r\nr1\r\nr2\r\nr3\r\nr4\u001b[2;4r\u001b[4;1H\nX");
        Assert.Equal(["r0", "r2", "r3", "X ", "r4"], Rows(m).Select(r => r[..2]).ToArray());
        m.Feed("\u001b[2;1H\u001bMY"u8); // RI at the top of the region scrolls it down
        Assert.Equal(["r0", "Y ", "r2", "r3", "r4"], Rows(m).Select(r => r[..2]).ToArray());
        m.Feed("\u001b[S"u8);
        Assert.Equal(["r0", "r2", "r3", "  ", "r4"], Rows(m).Select(r => r[..2]).ToArray());
        m.Feed("\u001b[2T"u8);
        Assert.Equal(["r0", "  ", "  ", "r2", "r4"], Rows(m).Select(r => r[..2]).ToArray());
        m.Feed("\u001b[4;1H\u001bDZ\u001bEW"u8);
        Assert.Equal(["r0", "r2", "Z ", "W ", "r4"], Rows(m).Select(r => r[..2]).ToArray());
    }

    [Fact]
    public void Origin_mode_makes_positions_relative_to_the_region()
    {
        var m = Fed("\u001b[2;4r\u001b[?6h\u001b[1;1HA\u001b[9;1HB");
        Assert.Equal("A", m.RowText(1)[..1]);
        Assert.Equal("B", m.RowText(3)[..1]);
    }

    [Fact]
    public void Saved_cursor_tabs_and_attributes_are_followed()
    {
        var m = Fed("\u001b[2;3H\u001b7\u001b[5;5H\u001b8x\tT\u001b[1;31mR\u001b[0mN\u001b[38;5;200;44mC");
        Assert.Equal("  x     TR", m.RowText(1));
        Assert.Equal("NC        ", m.RowText(2));
        Assert.Equal("1;31", m.CellAttributes(1, 9));
        Assert.Equal("", m.CellAttributes(1, 8));
        Assert.Equal("38;5;200;44", m.CellAttributes(2, 1));
    }

    [Fact]
    public void Erased_cells_keep_the_background_only()
    {
        var m = Fed("\u001b[1;4;41m\u001b[2J");
        Assert.Equal("41", m.CellAttributes(3, 3));
    }

    [Fact]
    public void What_vim_sends_at_start_keeps_the_model_trusted()
    {
        var m = Fed("\u001b[?1049h\u001b[22;0;0t\u001b[>4;2m\u001b[?1h\u001b=\u001b[?2004h\u001b[?1004h\u001b[1;5r\u001b[?12h\u001b[?12l\u001b[27m\u001b[m\u001b[H\u001b[2J\u001b[?25l\u001bPzz\u001b\\\u001b[0%m\u001b[6n\u001b[>c\u001b]10;?\u0007\u001b[2 q\u001b[?12$pa");
        Assert.True(m.Trusted);
        Assert.Equal("a         ", m.RowText(0));
    }

    [Fact]
    public void Sequences_without_text_leave_the_screen_alone()
    {
        var m = Fed("ab\u001b]0;title\x07\u001b]8;;http://x\u001b\\cd\u001b[?25l\u001b[?2004h\u001bP+q\u001b\\\u001b(0qx\u001b(Be");
        Assert.Equal("abcd─│e   ", m.RowText(0));
        Assert.True(m.Trusted);
        Assert.False(m.CursorVisible);
    }

    [Theory]
    [InlineData("\u001b#8")]
    [InlineData("\u001b[1;1;2;2$x")]
    [InlineData("e\u0301")]
    [InlineData("\u001b[?3h")]
    [InlineData("\u001b[3g")]
    [InlineData("\u001b[2'}")]
    [InlineData("\u001b[!p")]
    public void What_the_model_does_not_follow_makes_it_untrusted_until_the_screen_is_erased(string sequence)
    {
        var m = Fed(sequence);
        Assert.False(m.Trusted);
        m.Feed("\u001b[2J"u8);
        Assert.True(m.Trusted);
    }

    [Fact]
    public void A_resize_makes_it_untrusted()
    {
        var m = Fed("abc");
        m.Resize(6, 12);
        Assert.False(m.Trusted);
        Assert.Equal(12, m.Columns);
    }

    [Fact]
    public void The_repaint_puts_back_cursor_visibility_and_attributes()
    {
        var m = Fed("\u001b[?1049h\u001b[2;4r\u001b[?6h\u001b[3;2Hz\u001b[1m\u001b[?25l");
        var copy = new ScreenModel(5, 10);
        copy.Feed("\u001b[?1049h\u001b[2;4r"u8); // the real terminal knows the region already
        copy.Feed("\u001b[5;1Hgarbage\r\n\r\n"u8);
        copy.Feed(m.Repaint());
        Assert.Equal(Rows(m), Rows(copy));
        Assert.Equal(m.Cursor, copy.Cursor);
        Assert.False(copy.CursorVisible);
        copy.Feed("q"u8);
        m.Feed("q"u8);
        Assert.Equal(Rows(m), Rows(copy));
        Assert.Equal("1", copy.CellAttributes(3, 2));
    }

    [Fact]
    public void The_repaint_keeps_a_pending_wrap()
    {
        var m = Fed("\u001b[5;1H0123456789");
        var copy = new ScreenModel(5, 10);
        copy.Feed(m.Repaint());
        copy.Feed("X"u8);
        m.Feed("X"u8);
        Assert.Equal(Rows(m), Rows(copy));
        Assert.Equal(m.Cursor, copy.Cursor);
    }

    private static readonly string[] Pieces =
    [
        "a", "b", " ", "xyz", "\u4e2d", "\u00e9", "\u2500", "\r", "\n", "\t", "\b", "\u001b[1m", "\u001b[0m", "\u001b[31;44m",
        "\u001b[38;2;1;2;3m", "\u001b[7m", "\u001b[H", "\u001b[3;7H", "\u001b[2A", "\u001b[3B", "\u001b[4C", "\u001b[2D", "\u001b[5G",
        "\u001b[2d", "\u001b[K", "\u001b[1K", "\u001b[2K", "\u001b[J", "\u001b[1J", "\u001b[3X", "\u001b[2@", "\u001b[2P", "\u001b[L",
        "\u001b[2M", "\u001b[S", "\u001b[T", "\u001bD", "\u001bM", "\u001bE", "\u001b7", "\u001b8", "\u001b[2;4r", "\u001b[r", "\u001b[?6h",
        "\u001b[?6l", "\u001b[?7l", "\u001b[?7h", "\u001b[4h", "\u001b[4l", "\u001b[?25l", "\u001b[?25h", "\u001b(0", "\u001b(B",
        "\u001b[?1049h", "\u001b[?47h", "\u001b[3b", "0123456789ab",
    ];

    [Fact]
    public void Autowrap_turned_off_at_the_last_column_keeps_the_cursor_there_after_a_repaint()
    {
        // The case the property found: a full line (a pending wrap), then autowrap off, then a repaint.
        var m = new ScreenModel(6, 12);
        m.Feed("\u001b[?1049h0123456789ab\u001b[?7l"u8);
        var terminal = new ScreenModel(6, 12);
        terminal.Feed("\u001b[?1049h0123456789ab\u001b[?7l\u001b[1;1HBOX BOX"u8);
        terminal.Feed(m.Repaint());
        m.Feed("Qw"u8);
        terminal.Feed("Qw"u8);
        Assert.Equal(m.Cursor, terminal.Cursor);
        Assert.Equal(Rows(m), Rows(terminal));
    }

    [Property(MaxTest = 1000)]
    public Property Repainting_the_model_into_a_fresh_model_gives_the_same_screen() =>
        Prop.ForAll(Gen.ListOf(Gen.Elements(Pieces)).ToArbitrary(), pieces =>
        {
            var m = new ScreenModel(6, 12);
            m.Feed(Encoding.UTF8.GetBytes(string.Concat(pieces)));
            if (!m.Trusted)
            {
                return true.Label("untrusted: never repainted");
            }

            // The terminal showed something else (the box), with the program's region and modes set as the
            // program set them: what a repaint must draw over.
            var terminal = new ScreenModel(6, 12);
            terminal.Feed(Encoding.UTF8.GetBytes(string.Concat(pieces)));
            terminal.Feed("\u001b[?25h\u001b[1;1H\u001b[0;45mBOX BOX BOX BOX\r\n"u8);
            terminal.Feed(m.Repaint());
            bool same = Rows(m).SequenceEqual(Rows(terminal)) && m.Cursor == terminal.Cursor && m.CursorVisible == terminal.CursorVisible
                && Enumerable.Range(0, 6).All(r => Enumerable.Range(0, 12).All(c => m.CellAttributes(r, c) == terminal.CellAttributes(r, c)));
            // What comes next lands in the same place, with the same attributes.
            m.Feed("Qw\u4e2d"u8);
            terminal.Feed("Qw\u4e2d"u8);
            same &= Rows(m).SequenceEqual(Rows(terminal)) && m.Cursor == terminal.Cursor;
            return same.Label(string.Join("|", pieces.Select(p => p.Replace("\u001b", "\\e", StringComparison.Ordinal))));
        });
}
