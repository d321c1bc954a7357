using System.Globalization;
using System.Text.RegularExpressions;
using Cordon.Policy;
using Xunit;

namespace Cordon.Terminal.Tests;

public partial class PromptViewTests
{
    private static PromptQuestion Question(string resource, string? requested = null, string? folder = "/home/u/project", FloodInfo? flood = null, string[]? argv = null)
    {
        var process = new ProcessSummary(4242, "/usr/bin/node", argv ?? ["node", "install.js"]);
        var ancestry = new[] { new ProcessSummary(4241, "/bin/sh", ["sh", "-c", "node install.js"]), new ProcessSummary(4240, "/usr/bin/node", ["npm", "install"]) };
        var subject = new Subject(process, 4242, ancestry, _ => true);
        return new PromptQuestion(new Request(AccessKind.Read, Operation.Read, resource, requested, subject), folder, flood);
    }

    [GeneratedRegex("\x1b\\[[0-9;]*m")]
    private static partial Regex Colour();

    private static string[] Lines(string rendered) => Colour().Replace(rendered, "").TrimEnd('\n').Split('\n');

    [Fact]
    public void The_box_says_what_who_and_the_chain_of_parents_and_fits_80_columns()
    {
        var lines = Lines(PromptView.Render(Question("/home/u/.ssh/id_rsa", "/home/u/project/link"), 120));
        var text = string.Join('\n', lines);
        Assert.Contains("node wants to read", text, StringComparison.Ordinal);
        Assert.Contains("/home/u/.ssh/id_rsa", text, StringComparison.Ordinal);
        Assert.Contains("asked as", text, StringComparison.Ordinal);
        Assert.Contains("/home/u/project/link", text, StringComparison.Ordinal);
        Assert.Contains("node install.js (pid 4242)", text, StringComparison.Ordinal);
        Assert.Contains("npm install → sh -c node install.js → node", text, StringComparison.Ordinal);
        Assert.All(lines, l => Assert.True(new StringInfo(l).LengthInTextElements <= 80, $"line wider than 80 columns: {l}"));
    }

    [Fact]
    public void Escape_sequences_in_a_file_name_are_shown_escaped_never_sent_to_the_terminal()
    {
        var evil = "/home/u/project/a\x1b[2J\x1b[1;1Hfake prompt\u202eexe.txt";
        var rendered = PromptView.Render(Question(evil), 80);
        Assert.DoesNotContain("\x1b[2J", rendered, StringComparison.Ordinal);
        Assert.DoesNotContain("\u202e", rendered, StringComparison.Ordinal);
        Assert.Contains("\\e[2J", Colour().Replace(rendered, ""), StringComparison.Ordinal);
    }

    [Fact]
    public void A_huge_command_line_is_capped_so_the_keys_stay_on_screen()
    {
        var rendered = Lines(PromptView.Render(Question("/x/y", argv: ["node", new string('A', 100_000)]), 80));
        Assert.True(rendered.Length < 20, $"{rendered.Length} lines");
        Assert.Contains(rendered, l => l.Contains("allow once", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData('y', PromptAnswer.AllowOnce)]
    [InlineData('a', PromptAnswer.AllowAlways)]
    [InlineData('f', PromptAnswer.AllowFolder)]
    [InlineData('A', PromptAnswer.AllowKind)]
    [InlineData('n', PromptAnswer.DenyOnce)]
    [InlineData('d', PromptAnswer.DenyAlways)]
    public void Each_key_gives_its_answer(char key, PromptAnswer expected) =>
        Assert.Equal(expected, PromptView.Answer((byte)key, Question("/x/y")));

    [Fact]
    public void Other_keys_answer_nothing_and_the_folder_keys_exist_only_with_a_folder()
    {
        Assert.Null(PromptView.Answer((byte)'\r', Question("/x/y")));
        Assert.Null(PromptView.Answer((byte)' ', Question("/x/y")));
        Assert.Null(PromptView.Answer((byte)'f', Question("/x/y", folder: null)));
        Assert.Null(PromptView.Answer((byte)'x', Question("/x/y")));
        Assert.Equal(PromptAnswer.DenyFolder, PromptView.Answer((byte)'x', Question("/x/y", flood: new FloodInfo(4, 10))));
    }

    [Fact]
    public void A_flooded_folder_says_so()
    {
        var text = string.Join('\n', Lines(PromptView.Render(Question("/home/u/project/f9", flood: new FloodInfo(4, 10)), 80)));
        Assert.Contains("question 4 about /home/u/project, 10 more waiting", text, StringComparison.Ordinal);
    }
}
