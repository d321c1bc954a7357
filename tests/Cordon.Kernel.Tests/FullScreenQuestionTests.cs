using Xunit;

namespace Cordon.Kernel.Tests;

/// <summary>
/// A question over a full-screen program (issue 18.6): afterwards its screen is exactly what it was, drawn again by
/// cordon from its copy of the screen, because the program itself may not draw it all again (vim clears its message
/// line, less waiting in "(press RETURN)" draws nothing).
/// </summary>
public sealed class FullScreenQuestionTests : IDisposable
{
    private readonly Sandboxed s = new();

    public void Dispose() => s.Dispose();

    private static string WaitForScreen(Tmux t, Func<string, bool> done, int seconds = 20)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        string screen = t.Screen();
        while (DateTime.UtcNow < deadline && !done(screen))
        {
            Thread.Sleep(100);
            screen = t.Screen();
        }

        return screen;
    }

    [Fact]
    public void Vim_still_shows_its_error_after_a_denied_read()
    {
        var text = s.WorkFile("text.txt", "first line of the file\nsecond line\n");
        using var t = new Tmux(s, Tmux.Cordon($"run --allow-read={s.Work} -- vim -u NONE -i NONE -n -N {text}"));
        t.WaitFor("first line of the file");
        t.Keys($":r {s.Secret}", "Enter");
        t.WaitFor("wants to read");
        t.Keys("n");
        var screen = WaitForScreen(t, sc => sc.Contains("E484", StringComparison.Ordinal) && !sc.Contains("wants to read", StringComparison.Ordinal), 10);
        // vim draws the message after the open failed and then redraws on its own only when told to: give a
        // SIGWINCH-driven redraw the time to happen, then look again.
        Thread.Sleep(1500);
        screen = t.Screen();
        Assert.Contains("E484", screen, StringComparison.Ordinal);
        Assert.DoesNotContain("wants to read", screen, StringComparison.Ordinal);
        Assert.DoesNotContain("allow once", screen, StringComparison.Ordinal);
        Assert.Contains("first line of the file", screen, StringComparison.Ordinal);
        Assert.DoesNotContain(s.Marker, screen, StringComparison.Ordinal);
        t.Keys(":q!", "Enter");
        Assert.Equal(0, t.ExitCode());
    }

    [Fact]
    public void Answers_given_over_a_full_screen_program_stay_in_the_scrollback()
    {
        // The answer's line and a denial line are drawn on vim's alternate screen, which goes away when vim quits:
        // cordon writes them again on the main screen, where the shell's scrollback keeps them.
        var text = s.WorkFile("text.txt", "first line of the file\n");
        var viminfo = Path.Combine(s.Home, ".viminfo-test");
        using var t = new Tmux(s, Tmux.Cordon($"run --allow-read={s.Work} -- vim -u NONE -i NONE -n -N {text}"));
        t.WaitFor("first line of the file");
        t.Keys($":r {s.Secret}", "Enter");
        t.WaitFor("wants to read");
        t.Keys("n");
        _ = WaitForScreen(t, sc => sc.Contains("E484", StringComparison.Ordinal) && !sc.Contains("wants to read", StringComparison.Ordinal), 10);
        t.Keys($":w {viminfo}", "Enter");
        t.WaitFor("wants to create");
        t.Keys("n");
        _ = WaitForScreen(t, sc => !sc.Contains("wants to create", StringComparison.Ordinal), 10);
        t.Keys(":q!", "Enter");
        Assert.Equal(0, t.ExitCode());
        var after = t.Screen();
        Assert.Contains($"cordon: denied once: read {s.Secret}", after, StringComparison.Ordinal);
        Assert.Contains($"cordon: denied once: create {viminfo}", after, StringComparison.Ordinal);
        Assert.DoesNotContain("first line of the file", after, StringComparison.Ordinal);
        Assert.DoesNotContain(s.Marker, after, StringComparison.Ordinal);
        Assert.False(File.Exists(viminfo));
    }

    [Fact]
    public void Less_waiting_for_return_is_whole_after_a_question()
    {
        s.WorkFile("nums.txt", string.Join('\n', Enumerable.Range(1, 200).Select(i => $"line {i} of the numbers")) + "\n");
        using var t = new Tmux(s, "export LESSHISTFILE=-; " + Tmux.Cordon($"run --allow-read={s.Work} -- less nums.txt"));
        t.WaitFor("line 29 of the numbers");
        var before = t.Screen().Split('\n');
        t.Keys($":e {s.Secret}", "Enter");
        t.WaitFor("wants to read");
        t.Keys("n");
        _ = WaitForScreen(t, sc => sc.Contains("press RETURN", StringComparison.Ordinal) && !sc.Contains("wants to read", StringComparison.Ordinal), 10);
        Thread.Sleep(1000);
        var after = t.Screen().Split('\n');
        Assert.Contains("press RETURN", after[29], StringComparison.Ordinal);
        // Every row above less's message line is as it was before the question.
        Assert.True(before.Take(29).SequenceEqual(after.Take(29)), "less's page is whole:\n" + string.Join('\n', after) + "\n---- before:\n" + string.Join('\n', before));
        Assert.DoesNotContain(s.Marker, string.Join('\n', after), StringComparison.Ordinal);
        t.Keys("Enter");
        t.Keys("q");
        Assert.Equal(0, t.ExitCode());
    }
}
