using System.Text;
using Xunit;

namespace Cordon.Terminal.Tests;

public class ClipboardFilterTests
{
    private static string Run(ClipboardFilter f, params string[] chunks)
    {
        var sb = new StringBuilder();
        foreach (var c in chunks)
        {
            sb.Append(Encoding.Latin1.GetString(f.Filter(Encoding.Latin1.GetBytes(c))));
        }

        sb.Append(Encoding.Latin1.GetString(f.Flush()));
        return sb.ToString();
    }

    private static string Run(params string[] chunks) => Run(new ClipboardFilter(), chunks);

    [Theory]
    [InlineData("plain text\r\n")]
    [InlineData("\x1b[1;31mred\x1b[0m \x1b[?1049h\x1b[H\x1b[2J\x1b[?25l")]
    [InlineData("\x1b]0;my title\a\x1b]2;other\x1b\\\x1b]8;;https://example.org\x1b\\link\x1b]8;;\x1b\\")]
    [InlineData("caf\xc3\xa9 \xc2\xb0 \xc2")]
    [InlineData("\x1b]133;A\a\x1b]7;file://host/dir\a\x1b]520;x\a")]
    [InlineData("\x1b")]
    public void Ordinary_output_passes_byte_for_byte(string text)
    {
        var f = new ClipboardFilter();
        Assert.Equal(text, Run(f, text));
        Assert.Equal(0, f.Removed);
    }

    [Fact]
    public void Output_without_escapes_is_not_copied()
    {
        var f = new ClipboardFilter();
        var data = Encoding.ASCII.GetBytes("hello world\r\n");
        Assert.True(f.Filter(data) == data.AsSpan());
    }

    [Theory]
    [InlineData("a\x1b]52;c;aGVsbG8=\ab", "ab")]
    [InlineData("a\x1b]52;c;aGVsbG8=\x1b\\b", "ab")]
    [InlineData("a\x1b]52;c;?\ab", "ab")]
    [InlineData("a\xc2\x9d" + "52;c;aGVsbG8=\xc2\x9c" + "b", "ab")]
    [InlineData("a\x1b]0052;c;aGVsbG8=\ab", "ab")]
    [InlineData("a\x1b]5522;type=write\ab", "ab")]
    [InlineData("a\x1b]1337;Copy=;aGVsbG8=\ab", "ab")]
    [InlineData("a\x1b]4294967348;c;aGVsbG8=\ab", "ab")]
    [InlineData("a\x1b]52;c;aGVs\x1b[31mb", "a\x1b[31mb")]
    [InlineData("\x1bPtmux;\x1b\x1b]52;c;aGVsbG8=\a\x1b\\", "\x1bPtmux;\x1b\x1b\\")]
    [InlineData("\x1b]0;title \x1b]52;c;aGVsbG8=\a rest", "\x1b]0;title  rest")]
    public void Clipboard_commands_are_removed(string text, string expected)
    {
        var f = new ClipboardFilter();
        Assert.Equal(expected, Run(f, text));
        Assert.Equal(1, f.Removed);
    }

    [Fact]
    public void A_command_split_over_every_possible_pair_of_reads_is_removed()
    {
        const string text = "x\x1b]52;c;aGVsbG8=\x1b\\y\x1b]2;t\az";
        for (int cut = 0; cut <= text.Length; cut++)
        {
            for (int cut2 = cut; cut2 <= text.Length; cut2++)
            {
                var f = new ClipboardFilter();
                Assert.Equal("xy\x1b]2;t\az", Run(f, text[..cut], text[cut..cut2], text[cut2..]));
                Assert.Equal(1, f.Removed);
            }
        }
    }

    [Fact]
    public void A_command_one_byte_per_read_is_removed()
    {
        const string text = "\xc2\x9d" + "52;c;aGVsbG8=\a\x1b]52;c;aGVsbG8=\xc2\x9cok";
        var f = new ClipboardFilter();
        Assert.Equal("ok", Run(f, text.Select(c => c.ToString()).ToArray()));
        Assert.Equal(2, f.Removed);
    }

    [Fact]
    public void A_large_chunk_with_escapes_round_trips()
    {
        var text = string.Concat(Enumerable.Repeat("\x1b[32mgreen\x1b[0m line\r\n", 5000));
        Assert.Equal(text, Run(text));
    }
}
