using Xunit;

namespace Cordon.Kernel.Tests;

/// <summary>
/// "#!" scripts: the kernel runs the interpreter their first line names, so that interpreter is a program run and is
/// decided like one. The "evil" interpreter in these attacks is a copy of /bin/sh in the work directory, which no rule
/// lets run: if it ran, the script's body would write the proof file (the work directory is writable) and try the
/// secret. On the code before the fix every one of them wrote the proof.
/// </summary>
public sealed class ScriptAttackTests : IDisposable
{
    private readonly Sandboxed s = new();

    public void Dispose() => s.Dispose();

    private string Proof => Path.Combine(s.Work, "proof");

    private string Evil()
    {
        var evil = Path.Combine(s.Work, "evil");
        File.Copy("/bin/sh", evil);
        return evil;
    }

    private string Script(string name, string firstLine)
    {
        var path = s.WorkFile(name, $"{firstLine}\ncat '{s.Secret}'\necho ran > '{Proof}'\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        return path;
    }

    private RunResult Run(string allowRun, params string[] program)
    {
        var r = s.Cordon(["run", "--allow-read=" + s.Work, "--allow-write=" + s.Work, "--allow-run=" + allowRun, "--", .. program]);
        s.AssertNoSecret(r);
        return r;
    }

    private void Denied(RunResult r, string interpreter)
    {
        Assert.True(r.ExitCode == 126, r.ToString());
        NotRun(r, interpreter);
    }

    private void NotRun(RunResult r, string interpreter)
    {
        Assert.False(File.Exists(Proof), "the interpreter ran:\n" + r);
        Assert.Contains("--allow-run=" + interpreter, r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void A_granted_script_cannot_choose_an_interpreter_outside_the_granted_programs()
    {
        var evil = Evil();
        var script = Script("tool.sh", "#!" + evil);
        var r = Run(script, script);
        Denied(r, evil);
        Assert.Contains("the interpreter of " + script, r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void A_script_run_by_a_shell_cannot_choose_its_interpreter_either()
    {
        // The exec comes from inside the sandbox (sh running ./tool.sh), not from the launcher.
        var evil = Evil();
        var script = Script("tool.sh", "#! " + evil + " -e");
        var r = Run(script, "sh", "-c", "./tool.sh; echo status $?");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("status 126", r.Stdout, StringComparison.Ordinal);
        NotRun(r, evil);
    }

    [Fact]
    public void Every_script_of_a_chain_is_decided()
    {
        // outer -> inner -> evil: outer and inner are granted, the last interpreter is not.
        var evil = Evil();
        var inner = Script("inner", "#!" + evil);
        var outer = Script("outer", "#!" + inner);
        Denied(Run($"{outer},{inner}", outer), evil);

        // outer2 -> middle -> /bin/sh: a system interpreter at the end does not let an ungranted script in the middle run.
        var middle = Script("middle", "#!/bin/sh");
        var outer2 = Script("outer2", "#!" + middle);
        Denied(Run(outer2, outer2), middle);
    }

    [Fact]
    public void A_relative_interpreter_is_the_one_in_the_callers_directory()
    {
        // The kernel opens "#!tool" relative to the caller's working directory (open_exec in binfmt_script.c), not the
        // script's: bin/tool is granted, but the work directory's tool is what would run.
        var evil = Evil();
        File.Move(evil, Path.Combine(s.Work, "tool"));
        var bin = Path.Combine(s.Work, "bin");
        Directory.CreateDirectory(bin);
        File.Copy("/bin/sh", Path.Combine(bin, "tool"));
        var script = Script("bin/run-me", "#!tool");
        Denied(Run(bin, script), Path.Combine(s.Work, "tool"));
    }

    [Fact]
    public void An_execute_only_script_cannot_smuggle_its_interpreter_past_cordon()
    {
        // Mode 0111: the kernel reads the "#!" line, an unprivileged cordon cannot. The interpreter gets the script's
        // path as the command string of "-c", and that path is itself a command that writes the proof. As root cordon
        // reads the line and denies the interpreter; unprivileged, it expects the script itself to run and kills the
        // interpreter at its first trapped call (its loader opening libc).
        var evil = Evil();
        var scripts = Path.Combine(s.Work, "scripts");
        var script = s.WorkFile("scripts/x;echo ran>proof", $"#!{evil} -c\n");
        File.SetUnixFileMode(script, UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
        var r = Run(scripts, "sh", "-c", "'./scripts/x;echo ran>proof'; echo status $?");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.False(File.Exists(Proof), "the interpreter ran:\n" + r);
        Assert.DoesNotContain("status 0", r.Stdout, StringComparison.Ordinal);
    }
}

/// <summary>What scripts did before keeps working: system interpreters, env, granted chains, the kernel's own limits.</summary>
public sealed class ScriptTests : IDisposable
{
    private readonly Sandboxed s = new();

    public void Dispose() => s.Dispose();

    private string Script(string name, string firstLine, string body = "echo ran \"$0\" \"$@\"")
    {
        var path = s.WorkFile(name, $"{firstLine}\n{body}\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        return path;
    }

    private RunResult Run(string allowRun, params string[] program) =>
        s.Cordon(["run", "--allow-read=" + s.Work, "--allow-write=" + s.Work, "--allow-run=" + allowRun, "--", .. program]);

    [Fact]
    public void A_granted_script_with_a_system_interpreter_runs_without_a_question()
    {
        var script = Script("hello.sh", "#!/bin/sh");
        var r = Run(script, "sh", "-c", "./hello.sh a b");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("ran ./hello.sh a b\n", r.Stdout);
        Assert.DoesNotContain("denied", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Env_in_the_first_line_runs_the_named_program_which_is_decided_as_its_own_exec()
    {
        var script = Script("env.sh", "#!/usr/bin/env sh");
        var ok = Run(script, script, "x");
        Assert.True(ok.ExitCode == 0, ok.ToString());
        Assert.Equal($"ran {script} x\n", ok.Stdout);

        // env execs the program itself: a program there that no rule allows is denied at that exec.
        var evil = Path.Combine(s.Work, "evil");
        File.Copy("/bin/sh", evil);
        var script2 = Script("env2.sh", "#!/usr/bin/env " + evil);
        var denied = Run(script2, script2);
        Assert.NotEqual(0, denied.ExitCode);
        Assert.DoesNotContain("ran", denied.Stdout, StringComparison.Ordinal);
        Assert.Contains("--allow-run=" + evil, denied.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void A_chain_of_five_granted_scripts_runs_and_a_sixth_fails_as_without_cordon()
    {
        // The kernel follows five interpreters (fs/exec.c); one more gives ELOOP, with or without cordon.
        var previous = "/bin/sh";
        for (int i = 1; i <= 6; i++)
        {
            previous = Script($"chain/s{i}", "#!" + previous);
        }

        var five = Run(Path.Combine(s.Work, "chain"), Path.Combine(s.Work, "chain", "s5"));
        Assert.True(five.ExitCode == 0, five.ToString());
        Assert.StartsWith("ran ", five.Stdout, StringComparison.Ordinal);

        string six = Path.Combine(s.Work, "chain", "s6") + "; echo status $?";
        var bare = s.Bare("sh", "-c", six);
        Assert.Contains("status", bare.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("status 0", bare.Stdout, StringComparison.Ordinal);
        var confined = Run(Path.Combine(s.Work, "chain"), "sh", "-c", six);
        Assert.True(confined.ExitCode == 0, confined.ToString());
        Assert.Equal(bare.Stdout, confined.Stdout);
        Assert.Contains("Too many levels of symbolic links", confined.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void A_file_that_is_neither_elf_nor_script_is_refused_as_the_kernel_refuses_it_and_sh_falls_back()
    {
        // No "#!": execve fails with ENOEXEC (no binfmt_misc handler on these machines), and sh then runs the file
        // itself, as without cordon.
        var plain = Script("plain", "echo no shebang");
        var r = Run(plain, "sh", "-c", "./plain");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("no shebang", r.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void An_interpreter_no_rule_decides_is_asked_about_as_a_program_run()
    {
        var interpreter = Path.Combine(s.Work, "my-sh");
        File.Copy("/bin/sh", interpreter);
        var script = Script("tool.sh", "#!" + interpreter, "echo interpreted; exit 7");
        using var t = new Tmux(s, Tmux.Cordon($"run --allow-read={s.Work} --allow-run={script} -- {script}"), columns: 160);
        var screen = t.WaitFor("wants to run");
        Assert.Contains(interpreter, screen, StringComparison.Ordinal);
        Assert.Contains("the interpreter of", screen, StringComparison.Ordinal);
        t.Keys("y");
        Assert.Equal(7, t.ExitCode());
        Assert.Contains("interpreted", t.Screen(), StringComparison.Ordinal);
    }
}
