using System.Text.RegularExpressions;
using Xunit;

namespace Cordon.Kernel.Tests;

/// <summary>Screens after a question (issue 18.6): what the program drew must still be where the program thinks it is.</summary>
public sealed class ScreenTests : IDisposable
{
    private readonly Sandboxed s = new();

    public void Dispose() => s.Dispose();

    [Fact]
    public void A_readline_line_stays_whole_after_a_question_during_tab_completion()
    {
        var notes = Path.Combine(s.Home, "notes.txt");
        File.WriteAllText(notes, "notes-content\n");
        using var t = new Tmux(s, Tmux.Cordon("run -- env HISTFILE=/dev/null bash --norc -i"));
        t.WaitFor("bash-");
        t.Keys("echo one", "Enter");
        t.WaitFor("one\n");
        t.Keys($"cat {s.Home}/no", "Tab");
        t.WaitFor("wants to list"); // completion lists the folder
        t.Keys("y");
        var line = new Regex($@"^bash-[0-9.]+[#$] cat {Regex.Escape(notes)} *$", RegexOptions.Multiline);
        for (int i = 0; i < 50 && !line.IsMatch(t.Screen()); i++)
        {
            Thread.Sleep(100);
        }

        var screen = t.Screen();
        Assert.True(line.IsMatch(screen), "the completed line is whole, with the prompt:\n" + screen);
        Assert.DoesNotContain("wants to list", screen, StringComparison.Ordinal);
        var rows = screen.Split('\n');
        int at = Array.FindIndex(rows, r => line.IsMatch(r));
        Assert.Contains("cordon: allowed once: list " + s.Home, rows[at - 1], StringComparison.Ordinal);

        // The cursor is still in that line: Enter runs it (cat's read is a question of its own).
        t.Keys("Enter");
        t.WaitFor("wants to read");
        t.Keys("y");
        t.WaitFor("notes-content");
        t.Keys("exit", "Enter");
        Assert.Equal(0, t.ExitCode());
    }
}
