using System.Globalization;
using Xunit;

namespace Cordon.Kernel.Tests;

/// <summary>
/// The first adversarial set for the seccomp engine (tests/escape/escape.c). Every attack runs under cordon with
/// only the work directory granted; each test asserts the attack's own verdict AND that the planted secret's content
/// appears nowhere in the output. Run bare, every one of these attacks succeeds (see EscapeBaselineTests).
/// </summary>
public sealed class EscapeTests : IDisposable
{
    private readonly Sandboxed s = new();

    public void Dispose() => s.Dispose();

    private RunResult Attack(params string[] args)
    {
        var r = s.Cordon(["run", "--allow-read=" + s.Work, "--allow-write=" + s.Work, "--", EscapeProgram.Path, .. args]);
        s.AssertNoSecret(r);
        Assert.DoesNotContain("ESCAPED", r.Stdout, StringComparison.Ordinal);
        return r;
    }

    private static void Stopped(RunResult r)
    {
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("stopped:", r.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Plain_read_of_the_secret() => Stopped(Attack("read", s.Secret));

    [Fact]
    public void Symlink_to_the_secret_in_an_allowed_folder() => Stopped(Attack("symlink", s.Secret, Path.Combine(s.Work, "link")));

    [Fact]
    public void Hard_link_of_the_secret_into_an_allowed_folder()
    {
        Stopped(Attack("hardlink", s.Secret, Path.Combine(s.Work, "hard")));
        Assert.False(File.Exists(Path.Combine(s.Work, "hard")));
    }

    [Fact]
    public void Rename_of_the_secret_into_an_allowed_folder()
    {
        Stopped(Attack("rename", s.Secret, Path.Combine(s.Work, "moved")));
        Assert.True(File.Exists(s.Secret));
    }

    [Fact]
    public void Proc_self_root_path_to_the_secret() => Stopped(Attack("proc-root", s.Secret));

    [Fact]
    public void O_path_open_then_reopen_through_proc_self_fd_and_dev_fd() => Stopped(Attack("opath-reopen", s.Secret));

    [Fact]
    public void Relative_open_from_a_dirfd_or_cwd_inside_the_secret_folder() =>
        Stopped(Attack("dirfd", Path.GetDirectoryName(s.Secret)!, "id_rsa"));

    [Fact]
    public void Path_swapped_by_a_second_thread_during_open_never_leaks()
    {
        var allowed = s.WorkFile("allowed.txt", "harmless\n");
        var r = Attack("swap-race", allowed, s.Secret, s.Marker, "100000");
        Stopped(r);
        Assert.Contains("0 leaks in 100000 tries", r.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Io_uring_is_refused() => Stopped(Attack("io-uring"));

    [Fact]
    public void The_32_bit_entry_point_kills_the_process()
    {
        // Where the kernel has IA32 emulation, the call arrives with AUDIT_ARCH_I386 and the filter kills the process
        // (SIGSYS). Kernels built without it (like this project's machines) fault the instruction (SIGSEGV) before
        // any filter runs; the filter's rule is then covered by the interpreter tests.
        var bare = s.Bare(EscapeProgram.Path, "int80");
        var r = Attack("int80");
        bool emulated = bare.Stdout.Contains("ESCAPED", StringComparison.Ordinal);
        Assert.Equal(emulated ? 128 + 31 : bare.ExitCode, r.ExitCode);
    }

    [Fact]
    public void An_x32_system_call_kills_the_process()
    {
        var r = Attack("x32");
        Assert.Equal(128 + 31, r.ExitCode);
    }

    [Fact]
    public void Namespace_creation_is_refused_and_clone3_looks_absent() => Stopped(Attack("userns"));

    [Fact]
    public void Signalling_tracing_or_reading_cordon_is_refused() => Stopped(Attack("supervisor", "grandparent"));

    [Fact]
    public void A_second_seccomp_listener_cannot_be_installed()
    {
        var r = Attack("new-listener");
        Stopped(r);
        Assert.Contains("Operation not permitted", r.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Tiocsti_is_refused_by_the_filter()
    {
        var r = Attack("tiocsti");
        Stopped(r);
        // EPERM is the filter's answer; without it a non-terminal stdin would give ENOTTY instead.
        Assert.Contains("Operation not permitted", r.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Appending_to_bashrc_is_refused() => Stopped(Attack("write", Path.Combine(s.Home, ".bashrc")));

    [Fact]
    public void A_non_dumpable_process_gets_nothing_it_could_not_get_otherwise()
    {
        // Unprivileged, cordon cannot read a non-dumpable process's memory, so every trapped call is denied
        // (fail closed). As root it can, and decides as usual. Either way the secret stays in.
        Stopped(Attack("nondumpable", s.Secret));
        var allowed = s.WorkFile("ok.txt", "fine\n");
        var r = s.Cordon(["run", "--allow-read=" + s.Work, "--", EscapeProgram.Path, "nondumpable", allowed]);
        if (Environment.UserName == "root")
        {
            Assert.Contains("ESCAPED", r.Stdout, StringComparison.Ordinal); // i.e. the allowed read worked
        }
        else
        {
            Assert.Contains("stopped:", r.Stdout, StringComparison.Ordinal);
            Assert.Contains("non-dumpable", r.Stderr, StringComparison.Ordinal);
        }
    }
}

/// <summary>Without cordon the same attacks succeed: the escape tests above can fail.</summary>
public sealed class EscapeBaselineTests : IDisposable
{
    private readonly Sandboxed s = new();

    public void Dispose() => s.Dispose();

    [Theory]
    [InlineData("io-uring")]
    [InlineData("userns")]
    [InlineData("new-listener")]
    public void Bare_attacks_get_through(string attack)
    {
        var r = s.Bare(EscapeProgram.Path, attack);
        Assert.True(r.Stdout.Contains("ESCAPED", StringComparison.Ordinal) || r.Stdout.Contains("setup:", StringComparison.Ordinal), r.ToString());
    }

    [Fact]
    public void Bare_read_of_the_secret_gets_through()
    {
        var r = s.Bare(EscapeProgram.Path, "read", s.Secret);
        Assert.Contains(s.Marker, r.Stdout, StringComparison.Ordinal);
    }
}

/// <summary>If cordon dies, the program dies with it and writes nothing more.</summary>
public sealed class FailClosedTests : IDisposable
{
    private readonly Sandboxed s = new();

    public void Dispose() => s.Dispose();

    [Fact]
    public void Killing_cordon_kills_the_whole_sandbox()
    {
        var tag = "cordon-failclosed-" + Guid.NewGuid().ToString("N")[..8];
        var late = Path.Combine(s.Work, "late");
        var script = $"(sleep 3; echo late > {late}) & sleep 30 # {tag}";
        s.Cordon(["run", "--allow-read=" + s.Work, "--allow-write=" + s.Work, "--", "sh", "-c", script], null, TimeSpan.FromSeconds(60), p =>
        {
            Thread.Sleep(1500);
            p.Kill(); // SIGKILL: cordon gets no chance to clean up
        });
        Thread.Sleep(4000);
        Assert.False(File.Exists(late), "a process of the sandbox kept running and wrote after cordon died");
        Assert.Empty(ProcessesWith(tag));
    }

    private static List<int> ProcessesWith(string tag)
    {
        var found = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out int pid))
            {
                continue;
            }

            try
            {
                if (File.ReadAllText(Path.Combine(dir, "cmdline")).Contains(tag, StringComparison.Ordinal))
                {
                    found.Add(pid);
                }
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }

        return found;
    }
}
