using System.Text;
using Xunit;

namespace Cordon.Kernel.Tests;

/// <summary>
/// The user's terminal after and during a run (issue 19, point 8): settings and window size as they were, the
/// clipboard out of the sandbox's reach (OSC 52 writes and reads), and the terminal device itself not openable by
/// name. Each test drives a real shell in tmux with tmux's clipboard on (set-clipboard on: OSC 52 from a pane sets
/// a paste buffer, and a query answers with the newest one), so a clipboard command that gets through shows.
/// </summary>
public sealed class TerminalStateTests : IDisposable
{
    private readonly Sandboxed s = new();

    public void Dispose() => s.Dispose();

    private Tmux Shell()
    {
        var t = new Tmux(s, "bash --norc -i");
        t.Command("set-option", "-g", "set-clipboard", "on");
        t.WaitFor("bash-");
        return t;
    }

    /// <summary>Runs a shell command line and waits for its end; the word "fin" "ished" is split so the typed line does not match.</summary>
    private static void Type(Tmux t, string line, string done = "finished")
    {
        t.Keys(line + $"; echo {done[..3]}\"\"{done[3..]}", "Enter");
        t.WaitFor(done, 60);
    }

    /// <summary>The terminal's echo flag and size as `stty` reports them in the shell, printed between markers.</summary>
    private static (string Echo, string Size) Stty(Tmux t, string tag)
    {
        t.Keys($"echo {tag}-$(stty -a | tr ' ;' '\\n\\n' | grep -x -- '-\\?echo')-$(stty size | tr ' ' x)-", "Enter");
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (DateTime.UtcNow < deadline)
        {
            var m = System.Text.RegularExpressions.Regex.Match(t.History(), $"^{tag}-(-?echo)-([0-9]+x[0-9]+)-$", System.Text.RegularExpressions.RegexOptions.Multiline);
            if (m.Success)
            {
                return (m.Groups[1].Value, m.Groups[2].Value);
            }

            Thread.Sleep(100);
        }

        Assert.Fail("stty did not answer:\n" + t.Screen());
        return ("", "");
    }

    private static List<string> Buffers(Tmux t) =>
        t.Command("list-buffers", "-F", "#{buffer_name}").Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(name => t.Command("show-buffer", "-b", name)).ToList();

    [Theory]
    [InlineData("--no-prompt")]
    [InlineData("")]
    public void Echo_and_window_size_are_as_before_after_the_program_changed_them(string mode)
    {
        using var t = Shell();
        var before = Stty(t, "before");
        Assert.Equal("echo", before.Echo);
        Type(t, Tmux.Cordon($"run {mode} -- sh -c 'stty -echo; stty rows 5 cols 7; stty size'"));
        var after = Stty(t, "after");
        Assert.Equal(before, after);
    }

    [Fact]
    public void Echo_is_back_after_a_killed_program_left_the_terminal_raw()
    {
        using var t = Shell();
        var before = Stty(t, "before");
        Type(t, Tmux.Cordon("run --no-prompt -- sh -c 'stty raw -echo; kill -9 $$'") + "; echo status=$?");
        Assert.Contains("status=137", t.History(), StringComparison.Ordinal);
        Assert.Equal(before, Stty(t, "after"));
    }

    [Fact]
    public void Echo_is_back_when_the_program_shared_the_terminal_because_stdin_was_a_pipe()
    {
        // Without a terminal on stdin cordon gives the program no pty: it changes the user's terminal through
        // stderr, and cordon puts the settings back at the end.
        using var t = Shell();
        var before = Stty(t, "before");
        Type(t, "true | " + Tmux.Cordon("run -- sh -c 'stty -echo <&2'"));
        Assert.Equal(before.Echo, Stty(t, "after").Echo);
    }

    [Theory]
    [InlineData("--no-prompt")]
    [InlineData("")]
    public void A_clipboard_write_from_the_program_never_reaches_the_clipboard(string mode)
    {
        using var t = Shell();
        var payload = Convert.ToBase64String(Encoding.ASCII.GetBytes(s.Marker));
        Type(t, Tmux.Cordon($"run {mode} -- sh -c 'printf \"\\033]52;c;{payload}\\007\"; printf \"\\033]52;p;{payload}\\033\\134\"; echo printed'"));
        Assert.Contains("printed", t.History(), StringComparison.Ordinal);
        Assert.DoesNotContain(Buffers(t), b => b.Contains(s.Marker, StringComparison.Ordinal));
        Assert.Contains("removed a clipboard command (OSC 52)", t.History(), StringComparison.Ordinal);
    }

    [Fact]
    public void The_program_cannot_read_what_the_user_copied()
    {
        using var t = Shell();
        t.Command("set-buffer", "--", s.Marker); // the user copied a password
        var reader = s.WorkFile("paste.py", """
            import os, select, termios, time, tty
            old = termios.tcgetattr(0)
            tty.setraw(0)
            os.write(1, b'\x1b]52;c;?\x07')
            got = b''
            end = time.time() + 3
            while time.time() < end:
                r, _, _ = select.select([0], [], [], 0.2)
                if r:
                    got += os.read(0, 4096)
            termios.tcsetattr(0, termios.TCSANOW, old)
            print('got', got.hex(), len(got))
            """);
        Type(t, Tmux.Cordon($"run --allow-read={s.Work} -- python3 {reader}"));
        var history = t.History();
        Assert.Contains("got ", history, StringComparison.Ordinal);
        var base64 = Convert.ToBase64String(Encoding.ASCII.GetBytes(s.Marker));
        Assert.DoesNotContain(Convert.ToHexString(Encoding.ASCII.GetBytes(base64)).ToLowerInvariant(), history, StringComparison.Ordinal);
        Assert.DoesNotContain(Convert.ToHexString(Encoding.ASCII.GetBytes(s.Marker[..16])).ToLowerInvariant(), history, StringComparison.Ordinal);
    }

    [Fact]
    public void The_users_terminal_cannot_be_opened_by_name_from_the_sandbox()
    {
        // The program has cordon's pty; the user's own terminal device (/dev/pts/N) would bypass it: keys read
        // behind cordon's back, clipboard commands written unfiltered.
        using var t = Shell();
        var payload = Convert.ToBase64String(Encoding.ASCII.GetBytes(s.Marker));
        var attack = s.WorkFile("pts.py", $$"""
            import sys
            for mode in ('wb', 'rb'):
                try:
                    with open(sys.argv[1], mode, buffering=0) as f:
                        if mode == 'wb':
                            f.write(b'\x1b]52;c;{{payload}}\x07')
                    print('opened', mode)
                except OSError as e:
                    print('errno', e.errno, mode)
            """);
        Type(t, "T=$(tty); " + Tmux.Cordon($"run --allow-read={s.Work} -- python3 {attack} $T"));
        var history = t.History();
        Assert.Contains("errno 13 wb", history, StringComparison.Ordinal);
        // Under the view the user's terminal is not even in the program's /dev/pts (ENOENT, 2); elsewhere it is refused.
        Assert.Contains(Sandboxed.UnderView ? "errno 2 rb" : "errno 13 rb", history, StringComparison.Ordinal);
        Assert.DoesNotContain(Buffers(t), b => b.Contains(s.Marker, StringComparison.Ordinal));
    }
}
