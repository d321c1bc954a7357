using System.Diagnostics;
using System.Globalization;
using Xunit;

namespace Cordon.Kernel.Tests;

/// <summary>
/// A real terminal (tmux) in front of cordon: a person's keys answer the prompts. Each test has its own tmux server.
/// </summary>
public sealed class Tmux : IDisposable
{
    private readonly string socket = "cordon-test-" + Guid.NewGuid().ToString("N")[..12];

    public Tmux(Sandboxed s, string command, int columns = 100, int rows = 30)
    {
        Sandbox = s;
        RcFile = Path.Combine(s.Root, "rc-" + socket);
        var script = Path.Combine(s.Root, "run-" + socket + ".sh");
        File.WriteAllText(script, $"""
            cd '{s.Work}'
            {command}
            echo $? > '{RcFile}'
            sleep 600
            """);
        Run("new-session", "-d", "-s", "main", "-x", columns.ToString(CultureInfo.InvariantCulture), "-y", rows.ToString(CultureInfo.InvariantCulture),
            "env", "-i", "HOME=" + s.Home, "PATH=" + Sandboxed.SystemPath, "TERM=xterm", "LANG=C.UTF-8",
            "DOTNET_CLI_TELEMETRY_OPTOUT=1", "CORDON_ENGINE=" + Environment.GetEnvironmentVariable("CORDON_ENGINE"), "sh", script);
    }

    public Sandboxed Sandbox { get; }

    private string RcFile { get; }

    /// <summary>`dotnet exec cordon.dll ARGS` as a shell word list.</summary>
    public static string Cordon(string args) => $"{Sandboxed.CordonShell} {args}";

    public string Screen() => Run("capture-pane", "-p", "-t", "main");

    /// <summary>Everything shown so far, scrolled-off lines included, with wrapped lines joined.</summary>
    public string History() => Run("capture-pane", "-p", "-J", "-S", "-", "-t", "main");

    public void Keys(params string[] keys) => Run(["send-keys", "-t", "main", .. keys]);

    /// <summary>Any tmux command against this test's server (set-option, show-buffer, ...); returns its output.</summary>
    public string Command(params string[] args) => Run(args);

    /// <summary>Waits until the screen shows <paramref name="text"/>; fails with the screen when it does not.</summary>
    public string WaitFor(string text, int seconds = 60)
    {
        var sw = Stopwatch.StartNew();
        string screen = "";
        while (sw.Elapsed < TimeSpan.FromSeconds(seconds))
        {
            screen = Screen();
            if (screen.Contains(text, StringComparison.Ordinal))
            {
                return screen;
            }

            Thread.Sleep(100);
        }

        Assert.Fail($"the screen never showed \"{text}\":\n{screen}");
        return screen;
    }

    /// <summary>cordon's exit status if the command has finished, else null.</summary>
    public int? Finished() =>
        File.Exists(RcFile) && File.ReadAllText(RcFile).Trim() is { Length: > 0 } rc ? int.Parse(rc, CultureInfo.InvariantCulture) : null;

    /// <summary>cordon's exit status once the command has finished.</summary>
    public int ExitCode(int seconds = 60)
    {
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < TimeSpan.FromSeconds(seconds))
        {
            if (File.Exists(RcFile) && File.ReadAllText(RcFile).Trim() is { Length: > 0 } rc)
            {
                return int.Parse(rc, CultureInfo.InvariantCulture);
            }

            Thread.Sleep(100);
        }

        Assert.Fail($"cordon did not finish:\n{Screen()}{HangReport.Now()}");
        return -1;
    }

    private string Run(params string[] args)
    {
        var psi = new ProcessStartInfo("tmux") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add("-L");
        psi.ArgumentList.Add(socket);
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEnd();
        var error = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"tmux {string.Join(' ', args)}: {error}");
        return output;
    }

    public void Dispose()
    {
        try
        {
            Run("kill-server");
        }
        catch (Xunit.Sdk.XunitException)
        {
            // already gone
        }
    }
}

public sealed class TerminalTests : IDisposable
{
    private readonly Sandboxed s = new();

    public void Dispose() => s.Dispose();

    private string Notes()
    {
        var path = Path.Combine(s.Home, "notes.txt");
        File.WriteAllText(path, "notes-content\n");
        return path;
    }

    [Fact]
    public void Allow_once_lets_the_held_call_complete()
    {
        var notes = Notes();
        using var t = new Tmux(s, Tmux.Cordon($"run -- sh -c 'echo before; cat {notes}; echo after'"));
        var screen = t.WaitFor("wants to read");
        Assert.Contains(notes, screen, StringComparison.Ordinal);
        Assert.Contains("y allow once", screen, StringComparison.Ordinal);
        t.Keys("y");
        Assert.Equal(0, t.ExitCode());
        screen = t.Screen();
        Assert.Contains("allowed once: read " + notes, screen, StringComparison.Ordinal);
        Assert.Contains("notes-content", screen, StringComparison.Ordinal);
        Assert.Contains("after", screen, StringComparison.Ordinal);
        Assert.DoesNotContain("wants to read", screen, StringComparison.Ordinal); // the box is gone
    }

    [Fact]
    public void Deny_fails_the_call_and_the_program_goes_on()
    {
        using var t = new Tmux(s, Tmux.Cordon($"run -- sh -c 'cat {s.Secret}; echo status=$?'"));
        t.WaitFor("wants to read");
        t.Keys("n");
        Assert.Equal(0, t.ExitCode());
        var screen = t.Screen();
        Assert.Contains("Permission denied", screen, StringComparison.Ordinal);
        Assert.Contains("status=1", screen, StringComparison.Ordinal);
        Assert.DoesNotContain(s.Marker, screen, StringComparison.Ordinal);
    }

    [Fact]
    public void A_folder_grant_releases_every_queued_request_it_covers()
    {
        var data = Path.Combine(s.Home, "data");
        Directory.CreateDirectory(data);
        for (int i = 0; i < 8; i++)
        {
            File.WriteAllText(Path.Combine(data, $"f{i}"), $"file-{i}\n");
        }

        // Eight readers at once: all of them wait while the first question is on screen.
        using var t = new Tmux(s, Tmux.Cordon($"run -- sh -c 'for i in 0 1 2 3 4 5 6 7; do cat {data}/f$i & done; wait; echo all-done'"));
        var screen = t.WaitFor("wants to read");
        Assert.Contains("f folder " + data, screen, StringComparison.Ordinal);
        t.Keys("f");
        Assert.Equal(0, t.ExitCode());
        screen = t.WaitFor("all-done");
        for (int i = 0; i < 8; i++)
        {
            Assert.Contains($"file-{i}", screen, StringComparison.Ordinal);
        }

        Assert.Single(System.Text.RegularExpressions.Regex.Matches(screen, "cordon: allowed"));
        Assert.DoesNotContain("wants to read", screen, StringComparison.Ordinal);
    }

    [Fact]
    public void Keys_typed_before_the_question_appeared_never_answer_it()
    {
        var notes = Notes();
        using var t = new Tmux(s, Tmux.Cordon($"run -- sh -c 'sleep 2; cat {notes}; echo status=$?'"));
        Thread.Sleep(700);
        t.Keys("y", "a", "A", "f");
        t.WaitFor("wants to read");
        Thread.Sleep(1000);
        var screen = t.Screen();
        Assert.Contains("wants to read", screen, StringComparison.Ordinal); // still asking
        Assert.DoesNotContain("notes-content", screen, StringComparison.Ordinal);
        t.Keys("n");
        Assert.Equal(0, t.ExitCode());
        Assert.Contains("status=1", t.Screen(), StringComparison.Ordinal);
    }

    [Fact]
    public void Escape_sequences_in_a_file_name_are_shown_escaped()
    {
        var evil = Path.Combine(s.Home, "a\u001b[2J\u001b[Hfake");
        File.WriteAllText(evil, "x");
        var script = s.WorkFile("open.py", "import os, sys\ntry:\n    open(os.path.expanduser('~/a\\x1b[2J\\x1b[Hfake')).read()\nexcept OSError as e:\n    print('errno', e.errno)\n");
        using var t = new Tmux(s, Tmux.Cordon($"run --allow-read={s.Work} -- python3 {script}"));
        var screen = t.WaitFor("wants to read");
        Assert.Contains(@"a\e[2J\e[Hfake", screen, StringComparison.Ordinal);
        t.Keys("n");
        Assert.Equal(0, t.ExitCode());
        Assert.Contains("errno 13", t.Screen(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_full_screen_program_is_redrawn_after_a_question()
    {
        s.WorkFile("nums.txt", string.Join('\n', Enumerable.Range(1, 200)) + "\n");
        var notes = Notes();
        using var t = new Tmux(s, "export LESSHISTFILE=-; " + Tmux.Cordon($"run --allow-read={s.Work} -- sh -c '(sleep 3; cat {notes} >/dev/null) & less nums.txt'"));
        t.WaitFor("wants to read");
        t.Keys("y");
        Thread.Sleep(1500);
        var lines = t.Screen().Split('\n');
        Assert.True(lines[0].Trim() == "1", "less shows its first page again from the top:\n" + string.Join('\n', lines));
        Assert.DoesNotContain(lines, l => l.Contains("wants to read", StringComparison.Ordinal) || l.Contains("allow once", StringComparison.Ordinal));
        t.Keys("q");
        Assert.Equal(0, t.ExitCode());
    }

    [Fact]
    public void Ctrl_c_interrupts_the_program_and_cordon_exits_130()
    {
        using var t = new Tmux(s, Tmux.Cordon("run -- sh -c 'echo ready; sleep 100'"));
        t.WaitFor("ready");
        t.Keys("C-c");
        Assert.Equal(130, t.ExitCode());
    }

    [Fact]
    public void Ctrl_c_at_a_question_denies_and_interrupts_the_program()
    {
        using var t = new Tmux(s, Tmux.Cordon($"run -- sh -c 'cat {s.Secret}; sleep 100'"));
        t.WaitFor("wants to read");
        t.Keys("C-c");
        Assert.Equal(130, t.ExitCode());
        Assert.DoesNotContain(s.Marker, t.Screen(), StringComparison.Ordinal);
    }

    // The Ctrl-C must be there when the denial lets the program go on: a ^C typed into the program's terminal becomes
    // SIGINT only when a kernel worker processes that input, and a program that took the denial and exited normally
    // first looked, to its shell, like one that was not interrupted (the shell went on: a flaky hang of the test
    // above). The program blocks SIGINT, so that it can look for it right after the denial.
    [Fact]
    public void Ctrl_c_at_a_question_is_a_pending_sigint_when_the_denial_arrives()
    {
        string script = "import signal; signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})\n"
            + $"try:\n    open(\"{s.Secret}\")\nexcept PermissionError:\n"
            + "    print(\"SIGINT \" + (\"pending\" if signal.SIGINT in signal.sigpending() else \"missing\"), flush=True)\n";
        using var t = new Tmux(s, Tmux.Cordon($"run --allow-read={s.Work} -- python3 -c '{script}'"));
        t.WaitFor("wants to read");
        t.Keys("C-c");
        t.WaitFor("SIGINT ");
        Assert.Contains("SIGINT pending", t.Screen(), StringComparison.Ordinal);
    }

    [Fact]
    public void Ctrl_z_stops_cordon_like_any_job_and_fg_continues_it()
    {
        var marker = Path.Combine(s.Work, "resumed");
        using var t = new Tmux(s, "bash --norc -i");
        t.Keys(Tmux.Cordon($"run --allow-write={s.Work} -- sh -c 'echo sta\"\"rted; sleep 2; touch {marker}; echo fini\"\"shed'"), "Enter");
        t.WaitFor("started");
        t.Keys("C-z");
        t.WaitFor("Stopped");
        Thread.Sleep(3000);
        Assert.False(File.Exists(marker), "a stopped program must not run on");
        t.Keys("fg", "Enter");
        t.WaitFor("finished", 20);
        Assert.True(File.Exists(marker));
        t.Keys("exit", "Enter");
    }

    [Fact]
    public void No_prompt_flag_denies_without_asking_and_names_the_flag()
    {
        using var t = new Tmux(s, Tmux.Cordon($"run --no-prompt -- cat {s.Secret}"));
        Assert.Equal(1, t.ExitCode());
        var screen = t.Screen();
        Assert.DoesNotContain("wants to read", screen, StringComparison.Ordinal);
        Assert.Contains("--allow-read=" + s.Secret, screen.Replace("\n", "", StringComparison.Ordinal), StringComparison.Ordinal);
    }

    [Fact]
    public void An_unanswered_question_is_denied_after_the_prompt_timeout()
    {
        using var t = new Tmux(s, Tmux.Cordon($"run --prompt-timeout 1 -- sh -c 'cat {s.Secret}; echo status=$?'"));
        t.WaitFor("wants to read");
        Assert.Equal(0, t.ExitCode(20));
        var screen = t.Screen();
        Assert.Contains("denied (no answer)", screen, StringComparison.Ordinal);
        Assert.Contains("status=1", screen, StringComparison.Ordinal);
    }

    [Fact]
    public void Secret_looking_variables_are_asked_about_once_before_the_program_starts()
    {
        using (var t = new Tmux(s, "export NPM_TOKEN=tok-123; " + Tmux.Cordon("run -- sh -c 'echo token=$NPM_TOKEN'")))
        {
            var screen = t.WaitFor("look secret");
            Assert.Contains("NPM_TOKEN", screen, StringComparison.Ordinal);
            t.Keys("n");
            Assert.Equal(0, t.ExitCode());
            Assert.Contains("token=\n", t.Screen(), StringComparison.Ordinal);
        }

        using (var t = new Tmux(s, "export NPM_TOKEN=tok-123; " + Tmux.Cordon("run -- sh -c 'echo token=$NPM_TOKEN'")))
        {
            t.WaitFor("look secret");
            t.Keys("y");
            Assert.Equal(0, t.ExitCode());
            Assert.Contains("token=tok-123", t.Screen(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void An_always_answer_is_saved_in_the_projects_profile_and_not_asked_again()
    {
        var notes = Notes();
        using (var t = new Tmux(s, Tmux.Cordon($"run -- cat {notes}")))
        {
            t.WaitFor("wants to read");
            t.Keys("a");
            Assert.Equal(0, t.ExitCode());
        }

        // Answers belong to the project (issue 18.3), written portably: ~/notes.txt, not the absolute path.
        var saved = File.ReadAllText(Assert.Single(Directory.GetFiles(Path.Combine(s.Home, ".config", "cordon", "projects"), "*.yaml")));
        Assert.Contains("\"~/notes.txt\"", saved, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(s.Home, ".config", "cordon", "profiles", "cat.yaml")));
        var again = s.Cordon("run", "--no-prompt", "--", "cat", notes);
        Assert.True(again.ExitCode == 0, again.ToString());

        using (var t = new Tmux(s, Tmux.Cordon($"run --no-save --profile other -- cat {notes}")))
        {
            t.WaitFor("wants to read");
            t.Keys("a");
            Assert.Equal(0, t.ExitCode());
        }

        Assert.False(File.Exists(Path.Combine(s.Home, ".config", "cordon", "profiles", "other.yaml")));
    }

    [Fact]
    public void A_question_whose_process_was_killed_is_withdrawn()
    {
        using var t = new Tmux(s, Tmux.Cordon($"run -- sh -c 'cat {s.Secret} & sleep 2; kill -9 $!; echo kil\"\"led; sleep 1; echo over'"));
        t.WaitFor("wants to read");
        t.WaitFor("denied (no answer)", 15);
        Assert.Equal(0, t.ExitCode());
        var screen = t.Screen();
        Assert.Contains("killed", screen, StringComparison.Ordinal);
        Assert.Contains("over", screen, StringComparison.Ordinal);
        Assert.DoesNotContain(s.Marker, screen, StringComparison.Ordinal);
    }

    [Fact]
    public void A_question_open_when_the_program_exits_does_not_hold_cordon()
    {
        using var t = new Tmux(s, Tmux.Cordon($"run -- sh -c 'cat {s.Secret} & sleep 2; exit 3'"));
        t.WaitFor("wants to read");
        Assert.Equal(3, t.ExitCode(20));
        Assert.DoesNotContain(s.Marker, t.Screen(), StringComparison.Ordinal);
    }

    [Fact]
    public void Tiocsti_pushes_nothing_into_the_users_shell()
    {
        // Even where the kernel still allows TIOCSTI, cordon's filter refuses it, and the program's terminal is
        // cordon's pty: the user's shell never sees the injected command.
        var proof = Path.Combine(s.Root, "injected");
        var attack = s.WorkFile("sti.py", $"import fcntl, termios\nfor ch in 'touch {proof}\\n':\n    try:\n        fcntl.ioctl(0, termios.TIOCSTI, ch.encode())\n    except OSError as e:\n        print('errno', e.errno); break\n");
        using var t = new Tmux(s, "bash --norc -i");
        t.Keys(Tmux.Cordon($"run --allow-read={s.Work} -- python3 {attack}"), "Enter");
        t.WaitFor("errno 1");
        Thread.Sleep(1000);
        Assert.False(File.Exists(proof));
        t.Keys("exit", "Enter");
    }
}
