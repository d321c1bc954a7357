using System.Globalization;
using Xunit;

namespace Cordon.Kernel.Tests;

/// <summary>
/// The attacks that load the machine (races of 100,000 tries, 640,000 opens, a fork bomb) run alone, after the
/// other tests: next to them, tests that wait for a prompt on a 2-core machine would time out.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class Heavy
{
    public const string Name = "heavy attacks, run alone";
}

/// <summary>Runs one attack of tests/escape/escape.c under cordon with the work directory granted.</summary>
internal static class Attacks
{
    /// <summary>Whatever the attack reports, the secret never shows and it never says ESCAPED.</summary>
    public static RunResult Run(Sandboxed s, string[] flags, string[] args)
    {
        var r = s.Cordon(["run", "--allow-read=" + s.Work, "--allow-write=" + s.Work, .. flags, "--", EscapeProgram.Path, .. args]);
        s.AssertNoSecret(r);
        Assert.DoesNotContain("ESCAPED", r.Stdout, StringComparison.Ordinal);
        return r;
    }

    public static void Stopped(RunResult r)
    {
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("stopped:", r.Stdout, StringComparison.Ordinal);
    }
}

/// <summary>
/// The first adversarial set for the seccomp engine (tests/escape/escape.c). Every attack runs under cordon with
/// only the work directory granted; each test asserts the attack's own verdict AND that the planted secret's content
/// appears nowhere in the output. Run bare, every one of these attacks succeeds (see EscapeBaselineTests).
/// </summary>
[Collection(Heavy.Name)]
public sealed class EscapeTests : IDisposable
{
    private readonly Sandboxed s = new();

    public void Dispose() => s.Dispose();

    private RunResult Attack(params string[] args) => Attacks.Run(s, [], args);

    private static void Stopped(RunResult r) => Attacks.Stopped(r);

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
    public void Binding_the_secrets_folder_over_an_allowed_one_in_a_private_namespace()
    {
        var mnt = Path.Combine(s.Work, "mnt");
        Directory.CreateDirectory(mnt);
        Stopped(Attack("bind-mount", Path.GetDirectoryName(s.Secret)!, mnt));
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
        if (Environment.UserName == "root" || Sandboxed.UnderView)
        {
            // i.e. the allowed read worked: root's cordon can read the process's memory, and under the view the
            // kernel opens what the rules allow without asking cordon at all.
            Assert.Contains("ESCAPED", r.Stdout, StringComparison.Ordinal);
        }
        else
        {
            Assert.Contains("stopped:", r.Stdout, StringComparison.Ordinal);
            Assert.Contains("non-dumpable", r.Stderr, StringComparison.Ordinal);
        }
    }
}

/// <summary>The wider adversarial suite (issue: hardening): races across processes and syscalls, fds, memfd, preload, load.</summary>
[Collection(Heavy.Name)]
public sealed class MoreEscapeTests : IDisposable
{
    private readonly Sandboxed s = new();

    public void Dispose() => s.Dispose();

    private RunResult Attack(params string[] args) => Attacks.Run(s, [], args);

    private RunResult AttackWith(string[] flags, params string[] args) => Attacks.Run(s, flags, args);

    private static void Stopped(RunResult r) => Attacks.Stopped(r);

    [Fact]
    public void Openat2_with_every_resolve_flag_is_decided_like_open() => Stopped(Attack("openat2", s.Secret));

    [Fact]
    public void A_symlink_swapped_in_after_a_socket_bind_does_not_get_the_sockets_mode()
    {
        // cordon binds Unix sockets for the program and gives the socket file the program's umask. Done as a chmod of
        // the new name after the bind, a second thread could swap a symlink to the secret in between and the chmod
        // followed it (the secret became 0777). Nothing to compare bare: without cordon there is no such chmod.
        File.SetUnixFileMode(s.Secret, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var r = Attack("bind-chmod-race", s.Secret, s.Work, "3000");
        Stopped(r);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(s.Secret));
    }

    [Fact]
    public void Another_process_swapping_the_path_in_shared_memory_never_leaks()
    {
        var allowed = s.WorkFile("allowed.txt", "harmless\n");
        var r = Attack("shm-swap", allowed, s.Secret, s.Marker, "20000");
        Stopped(r);
        Assert.Contains("0 leaks in 20000 tries", r.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void A_program_swapped_in_during_execve_never_gets_to_act()
    {
        // The denied program is a copy of the attack program in the work directory (not granted for running); if it
        // ran it would create the proof file, which the work directory allows.
        var copy = Path.Combine(s.Work, "denied-copy");
        File.Copy(EscapeProgram.Path, copy);
        var proof = Path.Combine(s.Work, "proof");
        var r = Attack("exec-swap", "/usr/bin/true", copy, proof, "300");
        Stopped(r);
        Assert.False(File.Exists(proof));
    }

    [Fact]
    public void A_port_swapped_during_connect_never_reaches_the_denied_port()
    {
        using var allowed = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        using var denied = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        allowed.Start(512);
        denied.Start(512);
        int pa = ((System.Net.IPEndPoint)allowed.LocalEndpoint).Port, pd = ((System.Net.IPEndPoint)denied.LocalEndpoint).Port;
        int deniedHits = 0;
        using var stop = new CancellationTokenSource();
        var acceptDenied = Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    using var c = await denied.AcceptTcpClientAsync(stop.Token);
                    Interlocked.Increment(ref deniedHits);
                }
            }
            catch (OperationCanceledException)
            {
            }
        });
        var acceptAllowed = Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    using var c = await allowed.AcceptTcpClientAsync(stop.Token);
                }
            }
            catch (OperationCanceledException)
            {
            }
        });
        var r = AttackWith(["--allow-net=127.0.0.1:" + pa], "connect-swap", pa.ToString(CultureInfo.InvariantCulture), pd.ToString(CultureInfo.InvariantCulture), "2000");
        Stopped(r);
        Thread.Sleep(300);
        stop.Cancel();
        Assert.Equal(0, Volatile.Read(ref deniedHits));
    }

    [Fact]
    public void Processes_outside_the_sandbox_cannot_be_signalled_traced_or_read()
    {
        using var outside = System.Diagnostics.Process.Start("sleep", "60");
        try
        {
            Stopped(Attack("outside", outside.Id.ToString(CultureInfo.InvariantCulture)));
            Assert.False(outside.HasExited);
        }
        finally
        {
            outside.Kill();
        }
    }

    [Fact]
    public void No_descriptor_of_cordon_is_inherited() => Stopped(Attack("fds"));

    [Fact]
    public void A_program_copied_into_a_memfd_does_not_run() => Stopped(Attack("memfd-exec", "/usr/bin/true"));

    [Fact]
    public void Datagrams_via_sendmsg_sendmmsg_and_fast_open_need_a_rule()
    {
        using var udp = new System.Net.Sockets.UdpClient(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        int port = ((System.Net.IPEndPoint)udp.Client.LocalEndPoint!).Port;
        Stopped(Attack("sendmsg-udp", port.ToString(CultureInfo.InvariantCulture)));
        Thread.Sleep(200);
        Assert.Equal(0, udp.Available);
    }

    [Fact]
    public void A_preloaded_library_in_an_allowed_program_is_confined_too()
    {
        // LD_PRELOAD code runs inside the allowed program's process: it gets exactly what the program gets.
        var src = s.WorkFile("preload.c", $$"""
            #include <stdio.h>
            #include <fcntl.h>
            #include <unistd.h>
            __attribute__((constructor)) static void steal(void) {
                char b[256]; int fd = open("{{s.Secret}}", O_RDONLY);
                if (fd < 0) { puts("preload: open denied"); return; }
                ssize_t n = read(fd, b, sizeof b - 1); if (n > 0) { b[n] = 0; printf("preload: %s", b); }
            }
            """);
        var lib = Path.Combine(s.Work, "preload.so");
        var cc = s.Bare("cc", "-shared", "-fPIC", "-o", lib, src);
        Assert.True(cc.ExitCode == 0, cc.ToString());
        var r = s.Cordon("run", "--allow-read=" + s.Work, "--", "env", "LD_PRELOAD=" + lib, "true");
        s.AssertNoSecret(r);
        Assert.Contains("preload: open denied", r.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Hundreds_of_lingering_processes_in_new_sessions_all_die_with_the_run()
    {
        var tag = "cordon-forkmany-" + Guid.NewGuid().ToString("N")[..8];
        var link = Path.Combine(s.Work, tag);
        File.CreateSymbolicLink(link, EscapeProgram.Path);
        var r = s.Cordon("run", "--allow-read=" + s.Work, "--allow-run=" + link, "--", link, "fork-many", "300");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("started 300 lingering processes", r.Stdout, StringComparison.Ordinal);
        Thread.Sleep(500);
        Assert.Empty(FailClosedTests.ProcessesWith(tag));
    }

    [Fact]
    public void A_fork_bomb_neither_stops_cordon_nor_outlives_the_run()
    {
        var tag = "cordon-bomb-" + Guid.NewGuid().ToString("N")[..8];
        var link = Path.Combine(s.Work, tag);
        File.CreateSymbolicLink(link, EscapeProgram.Path);
        var r = s.Cordon(["run", "--allow-read=" + s.Work, "--allow-run=" + link, "--", link, "fork-bomb", "10"], null, TimeSpan.FromMinutes(3));
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("the bomb went off", r.Stdout, StringComparison.Ordinal);
        Thread.Sleep(500);
        Assert.Empty(FailClosedTests.ProcessesWith(tag));
    }

    [Fact]
    public void Sixty_four_threads_times_ten_thousand_opens_all_get_answers()
    {
        var allowed = s.WorkFile("hot.txt", "x");
        var r = Attack("threads", allowed, "64");
        Stopped(r);
        Assert.Contains("64 threads x 10000 opens all answered", r.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void A_thousand_short_processes_leave_cordons_descriptors_and_memory_bounded()
    {
        (int Fds, long RssKb)? first = null, last = null;
        var r = s.Cordon(["run", "--", "sh", "-c", "sleep 1; i=0; while [ $i -lt 1000 ]; do /bin/true; i=$((i+1)); done; sleep 1; echo done"], null, TimeSpan.FromMinutes(3), p =>
        {
            Thread.Sleep(800);
            first = Sample(p.Id);
            while (!p.HasExited)
            {
                try
                {
                    last = Sample(p.Id);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException)
                {
                    break; // exited between the check and the read
                }

                Thread.Sleep(100);
            }
        });
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("done", r.Stdout, StringComparison.Ordinal);
        Assert.NotNull(first);
        Assert.NotNull(last);
        Assert.True(last.Value.Fds <= first.Value.Fds + 8, $"cordon's descriptors grew from {first.Value.Fds} to {last.Value.Fds}");
        Assert.True(last.Value.RssKb <= first.Value.RssKb + 64 * 1024, $"cordon's memory grew from {first.Value.RssKb} kB to {last.Value.RssKb} kB");
    }

    private static (int Fds, long RssKb) Sample(int pid)
    {
        int fds = Directory.GetFiles($"/proc/{pid}/fd").Length;
        long rss = long.Parse(File.ReadAllLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
        return (fds, rss);
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

    internal static List<int> ProcessesWith(string tag)
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
