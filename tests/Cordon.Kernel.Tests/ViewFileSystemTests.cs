using System.Security.Cryptography;
using System.Text;
using Cordon.Interop;
using Cordon.Supervisor.View;
using Xunit;

namespace Cordon.Kernel.Tests;

/// <summary>
/// The view engine's FUSE file system with real programs on this machine's kernel, mirroring a temp tree. Mounting
/// FUSE directly needs root; as an ordinary user each test asserts that the mount is refused (the engine mounts in
/// the launcher's user namespace, which the end-to-end view tests cover).
/// </summary>
public sealed class ViewFileSystemTests
{
    private static uint GetTid() => (uint)Libc.Syscall(186 /* gettid */, 0, 0, 0);

    [Fact]
    public void Programs_read_the_host_tree_through_the_view()
    {
        using var m = ViewMirror.MountOrAssertRefused();
        if (m is null)
        {
            return;
        }

        Assert.Equal(ViewMirror.Hello, m.Run("cat", "hello.txt").Text);

        // A link is followed by the kernel inside the view: the question is about where it leads.
        Assert.Equal(ViewMirror.Hello, m.Run("cat", "link-to-hello").Text);
        Assert.Equal(0, m.Decider.Count(m.HostPath("link-to-hello")));
        Assert.True(m.Decider.Count(m.HostPath("hello.txt"), ViewOpenKind.File) >= 2);
        Assert.Equal("hello.txt", m.Run("readlink", "link-to-hello").Text.Trim());

        // The thread that opens is the one the decider hears about.
        uint tid = GetTid();
        Assert.Equal(ViewMirror.Hello, File.ReadAllText(m.ViewPath("hello.txt")));
        Assert.Contains(m.Decider.Asked, a => a.Path == m.HostPath("hello.txt") && a.Tid == tid);

        var ls = m.Run("ls", "-la");
        Assert.Equal(0, ls.ExitCode);
        Assert.Contains("link-to-hello -> hello.txt", ls.Text);
        Assert.Matches(@"-rw------- +1 root root +\d+ .* private-0600", ls.Text);
        Assert.Matches(@"drwx.* sub\n", ls.Text);
        Assert.True(m.Decider.Count(m.Host, ViewOpenKind.Directory) >= 1);

        // stat: the host's own inode numbers, sizes, modes, owners and times.
        string[] format = ["-c", "%i %s %a %u %g %F %Y %h"];
        foreach (var name in new[] { "hello.txt", "link-to-hello", "sub", "private-0600", "big.bin" })
        {
            var inView = m.Run("stat", [.. format, name]);
            var onHost = ViewMirror.RunIn(m.Host, 30, "stat", [.. format, name]);
            Assert.Equal(0, inView.ExitCode);
            Assert.Equal(onHost.Text, inView.Text);
        }

        // find walks the whole tree (every directory opened, listed, its entries stat'ed) and sees what the host
        // has, but for the inside of the directory the decider closes.
        var hostFind = ViewMirror.RunIn(m.Host, 30, "find", ".");
        var viewFind = m.Run("find", ".");
        Assert.Equal(0, hostFind.ExitCode);
        Assert.Contains("inside.txt", hostFind.Text);
        Assert.Equal(Sorted(hostFind.Text.Replace("./closed/inside.txt\n", "")), Sorted(viewFind.Text));
        Assert.Contains("'./closed': Permission denied", viewFind.Stderr);
        Assert.True(m.Decider.Count(m.HostPath("sub"), ViewOpenKind.Directory) >= 1);

        // statfs is the host's.
        string[] fs = ["-f", "-c", "%b %S %c"];
        Assert.Equal(ViewMirror.RunIn(m.Host, 30, "stat", [.. fs, "."]).Text, m.Run("stat", [.. fs, "."]).Text);
    }

    [Fact]
    public void A_large_directory_lists_completely_across_readdir_calls()
    {
        var names = Enumerable.Range(0, 700).Select(i => $"entry-with-a-rather-long-name-{i:D4}").ToList();
        using var m = ViewMirror.MountOrAssertRefused(prepare: mirror =>
        {
            Directory.CreateDirectory(mirror.HostPath("many"));
            foreach (var n in names)
            {
                File.WriteAllText(Path.Combine(mirror.HostPath("many"), n), "");
            }
        });
        if (m is null)
        {
            return;
        }

        // 700 records of ~64 bytes need about eleven 4 KiB READDIR replies, each resuming at the last cookie.
        var ls = m.Run("ls", "-a", "many");
        Assert.Equal(0, ls.ExitCode);
        Assert.Equal([".", "..", .. names], ls.Text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Names_that_are_not_UTF8_reach_the_host_byte_exact()
    {
        using var m = ViewMirror.MountOrAssertRefused(prepare: mirror =>
            Assert.Equal(0, ViewMirror.RunIn(mirror.Host, 30, "sh", "-c", "printf 'one\\n' > \"$(printf 'odd\\377')\"; printf 'two\\n' > \"$(printf 'odd\\376')\"").ExitCode));
        if (m is null)
        {
            return;
        }

        // Both names read as "odd\uFFFD" in UTF-8; each file is still served from its own bytes.
        Assert.Equal("one\n", m.Run("sh", "-c", "cat \"$(printf 'odd\\377')\"").Text);
        Assert.Equal("two\n", m.Run("sh", "-c", "cat \"$(printf 'odd\\376')\"").Text);
        Assert.Equal(2, m.Decider.Count(m.HostPath("odd\uFFFD"), ViewOpenKind.File));
        Assert.Equal(ViewMirror.RunIn(m.Host, 30, "ls").Stdout, m.Run("ls").Stdout); // the listing's bytes too
    }

    [Fact]
    public void Opening_a_directory_is_decided_and_a_denied_listing_fails()
    {
        using var m = ViewMirror.MountOrAssertRefused();
        if (m is null)
        {
            return;
        }

        var sub = m.Run("ls", "sub");
        Assert.Equal("inner.txt\n", sub.Text);
        Assert.Equal(1, m.Decider.Count(m.HostPath("sub"), ViewOpenKind.Directory));

        var closed = m.Run("ls", "closed");
        Assert.NotEqual(0, closed.ExitCode);
        Assert.Contains("Permission denied", closed.Stderr);
        Assert.DoesNotContain("inside.txt", closed.All());
        Assert.Equal(1, m.Decider.Count(m.HostPath("closed"), ViewOpenKind.Directory));

        // Metadata is not decided: the directory itself can be stat'ed.
        var stat = m.Run("stat", "-c", "%F", "closed");
        Assert.Equal("directory\n", stat.Text);
    }

    [Fact]
    public void A_denied_file_is_never_served_but_its_metadata_is()
    {
        using var m = ViewMirror.MountOrAssertRefused();
        if (m is null)
        {
            return;
        }

        foreach (var attempt in new[] { new[] { "cat", "secret.txt" }, ["head", "-c", "5", "secret.txt"], ["cat", "link-to-secret"], ["cp", "secret.txt", "/dev/stdout"] })
        {
            var r = m.Run(attempt[0], attempt[1..]);
            Assert.NotEqual(0, r.ExitCode);
            Assert.Contains("Permission denied", r.Stderr);
            Assert.DoesNotContain(m.Marker, r.All());
        }

        // Every open is asked again (the file system keeps no verdicts; that is the decider's business).
        Assert.Equal(4, m.Decider.Count(m.HostPath("secret.txt"), ViewOpenKind.File));
        Assert.Equal(0, m.Decider.Count(m.HostPath("link-to-secret")));

        var stat = m.Run("stat", "-c", "%s", "secret.txt");
        Assert.Equal(0, stat.ExitCode);
        Assert.Equal(new FileInfo(m.HostPath("secret.txt")).Length.ToString() + "\n", stat.Text);
    }

    [Fact]
    public void Exec_through_the_view_is_decided_as_exec()
    {
        using var m = ViewMirror.MountOrAssertRefused();
        if (m is null)
        {
            return;
        }

        var baseRule = m.Decider.Rule;
        m.Decider.Rule = (path, kind, c) => path == m.HostPath("denied-tool") ? ValueTask.FromResult(Errno.EACCES) : baseRule(path, kind, c);

        var r = m.Run("sh", "-c", "./script.sh arg && ./tool from-the-view");
        Assert.Equal(0, r.ExitCode);
        Assert.Equal("script ran: arg\nfrom-the-view\n", r.Text);
        Assert.Equal(1, m.Decider.Count(m.HostPath("script.sh"), ViewOpenKind.Exec));
        Assert.Equal(1, m.Decider.Count(m.HostPath("script.sh"), ViewOpenKind.File)); // the interpreter reads it
        Assert.Equal(1, m.Decider.Count(m.HostPath("tool"), ViewOpenKind.Exec));

        var denied = m.Run("sh", "-c", "./denied-tool nope");
        Assert.Equal(126, denied.ExitCode);
        Assert.Contains("Permission denied", denied.Stderr);
        Assert.DoesNotContain("nope", denied.Text);
        Assert.Equal(1, m.Decider.Count(m.HostPath("denied-tool"), ViewOpenKind.Exec));
    }

    [Fact]
    public void A_large_file_is_read_byte_exact()
    {
        using var m = ViewMirror.MountOrAssertRefused();
        if (m is null)
        {
            return;
        }

        var head = m.Run("head", "-c", "2000001", "big.bin");
        Assert.Equal(0, head.ExitCode);
        Assert.Equal(m.Big.AsSpan(0, 2000001).ToArray(), head.Stdout);

        var tail = m.Run("tail", "-c", "100000", "big.bin");
        Assert.Equal(m.Big.AsSpan(m.Big.Length - 100000).ToArray(), tail.Stdout);

        var all = m.Run("cat", "big.bin");
        Assert.Equal(SHA256.HashData(m.Big), SHA256.HashData(all.Stdout));
    }

    [Fact]
    public void Writes_get_EROFS_without_a_question_and_the_host_is_unchanged()
    {
        using var m = ViewMirror.MountOrAssertRefused();
        if (m is null)
        {
            return;
        }

        string before = Snapshot(m.Host);
        string[][] writes =
        [
            ["touch", "hello.txt"],
            ["touch", "new.txt"],
            ["sh", "-c", "echo x > hello.txt"],
            ["sh", "-c", "echo x >> hello.txt"],
            ["sh", "-c", "echo x > new.txt"],
            ["truncate", "-s", "0", "hello.txt"],
            ["mkdir", "made"],
            ["rm", "hello.txt"],
            ["rmdir", "sub"],
            ["mv", "hello.txt", "moved.txt"],
            ["ln", "-s", "hello.txt", "new-link"],
            ["ln", "hello.txt", "hard-link"],
            ["chmod", "777", "hello.txt"],
            ["mkfifo", "fifo"],
        ];
        int asked = m.Decider.Asked.Count;
        foreach (var w in writes)
        {
            var r = m.Run(w[0], w[1..]);
            Assert.True(r.ExitCode != 0, string.Join(' ', w) + "\n" + r);
            Assert.Contains("Read-only file system", r.Stderr);
        }

        Assert.Equal(asked, m.Decider.Asked.Count); // no write open reached the decider
        Assert.Equal(before, Snapshot(m.Host));
    }

    [Fact]
    public void Sixty_four_threads_waiting_for_decisions_hold_no_reader()
    {
        using var m = ViewMirror.MountOrAssertRefused(prepare: mirror =>
        {
            Directory.CreateDirectory(mirror.HostPath("flood"));
            Directory.CreateDirectory(mirror.HostPath("flood2"));
            for (int i = 0; i < 64; i++)
            {
                File.WriteAllText(Path.Combine(mirror.HostPath("flood"), $"f{i}"), $"file {i}\n");
                File.WriteAllText(Path.Combine(mirror.HostPath("flood2"), $"f{i}"), $"second {i}\n");
            }
        });
        if (m is null)
        {
            return;
        }

        // Phase 1: 64 decisions that do not come until the test says so (a person who has not answered yet).
        var answer = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int waiting = 0;
        var baseRule = m.Decider.Rule;
        m.Decider.Rule = async (path, kind, cancel) =>
        {
            if (path.Contains("/flood/", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref waiting);
                await answer.Task.WaitAsync(cancel);
            }
            else if (path.Contains("/flood2/", StringComparison.Ordinal))
            {
                await Task.Delay(50, cancel);
            }

            return await baseRule(path, kind, cancel);
        };

        var results = new string?[64];
        var tids = new uint[64];
        var threads = Enumerable.Range(0, 64).Select(i => new Thread(() =>
        {
            tids[i] = GetTid();
            try
            {
                results[i] = File.ReadAllText(m.ViewPath($"flood/f{i}"));
            }
            catch (Exception e)
            {
                results[i] = e.Message; // never an unhandled exception on a thread: that would end the test run
            }
        })).ToList();
        threads.ForEach(t => { t.IsBackground = true; t.Start(); });
        Assert.True(ViewMirror.Eventually(() => Volatile.Read(ref waiting) == 64, 30), $"{waiting} of 64 opens reached the decider");

        // Meanwhile lookups, listings and other files' opens are served: no reader is held by a question.
        var started = DateTime.UtcNow;
        Assert.Equal("regular file\n", ViewMirror.RunIn(m.MountPoint, 15, "stat", "-c", "%F", "flood/f7").Text);
        Assert.Equal(64, ViewMirror.RunIn(m.MountPoint, 15, "ls", "flood").Text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Equal(ViewMirror.Hello, ViewMirror.RunIn(m.MountPoint, 15, "cat", "hello.txt").Text);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(15));
        Assert.All(results, r => Assert.Null(r));

        answer.SetResult();
        Assert.All(threads, t => Assert.True(t.Join(TimeSpan.FromSeconds(30))));
        for (int i = 0; i < 64; i++)
        {
            Assert.Equal($"file {i}\n", results[i]);
            Assert.Contains(m.Decider.Asked, a => a.Path == m.HostPath($"flood/f{i}") && a.Tid == tids[i]);
        }

        // Phase 2: every answer takes 50 ms; 64 threads at once are all answered.
        var second = new string?[64];
        var more = Enumerable.Range(0, 64).Select(i => new Thread(() =>
        {
            try
            {
                second[i] = File.ReadAllText(m.ViewPath($"flood2/f{i}"));
            }
            catch (Exception e)
            {
                second[i] = e.Message;
            }
        })).ToList();
        more.ForEach(t => { t.IsBackground = true; t.Start(); });
        Assert.All(more, t => Assert.True(t.Join(TimeSpan.FromSeconds(30))));
        Assert.Equal(Enumerable.Range(0, 64).Select(i => $"second {i}\n"), second);
    }

    [Fact]
    public void An_interrupted_open_returns_and_its_decision_is_cancelled()
    {
        using var m = ViewMirror.MountOrAssertRefused();
        if (m is null)
        {
            return;
        }

        var cancelled = new TaskCompletionSource();
        var baseRule = m.Decider.Rule;
        m.Decider.Rule = async (path, kind, cancel) =>
        {
            if (path == m.HostPath("never.txt"))
            {
                using var registration = cancel.Register(() => cancelled.TrySetResult());
                await Task.Delay(Timeout.Infinite, cancel);
            }

            return await baseRule(path, kind, cancel);
        };

        // cat dies of SIGINT while its open waits for a decision; without an answer to the INTERRUPT it would stay
        // in the kernel (uninterruptibly: the request reached cordon) and timeout would wait for it forever.
        var r = ViewMirror.RunIn(m.MountPoint, 20, "timeout", "-s", "INT", "1", "cat", "never.txt");
        Assert.Equal(124, r.ExitCode);
        Assert.DoesNotContain(m.Marker, r.All());
        Assert.True(ViewMirror.Eventually(() => cancelled.Task.IsCompleted), "the decision was not cancelled");

        Assert.Equal(ViewMirror.Hello, m.Run("cat", "hello.txt").Text);
    }

    [Fact]
    public void A_handled_signal_during_a_question_does_not_fail_the_open()
    {
        using var m = ViewMirror.MountOrAssertRefused();
        if (m is null)
        {
            return;
        }

        var answer = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        bool cancelled = false;
        m.Decider.Rule = async (path, kind, cancel) =>
        {
            if (path == m.HostPath("hello.txt"))
            {
                using var registration = cancel.Register(() => cancelled = true);
                await answer.Task.WaitAsync(cancel);
            }

            return Errno.None;
        };

        // perl's open does not retry EINTR: an open failed by the signal would print "open: Interrupted system call".
        using var perl = m.Start("perl", "-e", "$SIG{USR1} = sub { print STDERR \"handled\\n\" }; open(F, '<', 'hello.txt') or die \"open: $!\\n\"; print <F>;");
        Assert.True(ViewMirror.Eventually(() => m.Decider.Count(m.HostPath("hello.txt")) == 1));
        Assert.Equal(0, Libc.Kill(perl.Id, 10 /* SIGUSR1 */));
        Thread.Sleep(700); // the kernel's INTERRUPT comes and goes; the watcher looks at the thread a few times
        Assert.False(perl.HasExited);
        answer.SetResult();
        var r = ViewMirror.Finish(perl, 15);
        Assert.Equal(0, r.ExitCode);
        Assert.Equal(ViewMirror.Hello, r.Text);
        Assert.Contains("handled", r.Stderr); // delivered after the open returned
        Assert.False(cancelled);
        Assert.Equal(1, m.Decider.Count(m.HostPath("hello.txt")));
    }

    [Theory]
    [InlineData(9, false)]   // SIGKILL while the question waits
    [InlineData(15, true)]   // SIGTERM (unhandled, so fatal) after a handled SIGUSR1 used up the one INTERRUPT
    public void A_killed_thread_stops_waiting_for_its_question(int signal, bool handledFirst)
    {
        using var m = ViewMirror.MountOrAssertRefused();
        if (m is null)
        {
            return;
        }

        var cancelled = new TaskCompletionSource();
        m.Decider.Rule = async (path, kind, cancel) =>
        {
            if (path == m.HostPath("never.txt"))
            {
                using var registration = cancel.Register(() => cancelled.TrySetResult());
                await Task.Delay(Timeout.Infinite, cancel);
            }

            return Errno.None;
        };

        using var perl = m.Start("perl", "-e", "$SIG{USR1} = sub { }; open(F, '<', 'never.txt') or die \"open: $!\\n\"; print <F>;");
        Assert.True(ViewMirror.Eventually(() => m.Decider.Count(m.HostPath("never.txt")) == 1));
        if (handledFirst)
        {
            Assert.Equal(0, Libc.Kill(perl.Id, 10 /* SIGUSR1 */));
            Thread.Sleep(500);
            Assert.False(perl.HasExited);
        }

        Assert.Equal(0, Libc.Kill(perl.Id, signal));
        var r = ViewMirror.Finish(perl, 15);
        Assert.NotEqual(-1, r.ExitCode);
        Assert.DoesNotContain(m.Marker, r.All());
        Assert.True(ViewMirror.Eventually(() => cancelled.Task.IsCompleted), "the decision was not cancelled");
        Assert.Equal(ViewMirror.Hello, m.Run("cat", "hello.txt").Text);
    }

    [Fact]
    public void Dispose_with_a_pending_open_fails_the_waiting_program_and_serves_nothing()
    {
        using var m = ViewMirror.MountOrAssertRefused();
        if (m is null)
        {
            return;
        }

        var cancelled = new TaskCompletionSource();
        m.Decider.Rule = async (path, kind, cancel) =>
        {
            using var registration = cancel.Register(() => cancelled.TrySetResult());
            await Task.Delay(Timeout.Infinite, cancel);
            return Errno.None;
        };

        using var cat = m.Start("cat", "never.txt");
        Assert.True(ViewMirror.Eventually(() => m.Decider.Count(m.HostPath("never.txt")) == 1));
        m.Fs.Dispose();
        var r = ViewMirror.Finish(cat, 15);
        Assert.NotEqual(-1, r.ExitCode);
        Assert.NotEqual(0, r.ExitCode);
        Assert.DoesNotContain(m.Marker, r.All());
        Assert.Matches("Software caused connection abort|Transport endpoint is not connected", r.Stderr);
        Assert.True(ViewMirror.Eventually(() => cancelled.Task.IsCompleted), "the decision was not cancelled");
    }

    [Fact]
    public void Unmounting_ends_the_readers()
    {
        using var m = ViewMirror.MountOrAssertRefused();
        if (m is null)
        {
            return;
        }

        Assert.Equal(ViewMirror.Hello, m.Run("cat", "hello.txt").Text);
        Assert.True(ViewMirror.Eventually(() => m.Fs.LiveReaders == 4));
        Assert.Equal(0, ViewMirror.Unmount(m.MountPoint));
        Assert.True(ViewMirror.Eventually(() => m.Fs.LiveReaders == 0), $"{m.Fs.LiveReaders} readers still running");
    }

    [Fact]
    public void Mode_bits_refuse_another_user_before_any_question()
    {
        using var m = ViewMirror.MountOrAssertRefused();
        if (m is null)
        {
            return;
        }

        string[] nobody = ["--reuid=65534", "--regid=65534", "--clear-groups"];
        var own = m.Run("setpriv", [.. nobody, "cat", "private-0600"]);
        Assert.NotEqual(0, own.ExitCode);
        Assert.Contains("Permission denied", own.Stderr);
        Assert.DoesNotContain(m.Marker, own.All());
        Assert.Equal(0, m.Decider.Count(m.HostPath("private-0600")));

        // allow_other: the other user reaches the mount, and what its mode allows is decided as usual.
        Assert.Equal(ViewMirror.Hello, m.Run("setpriv", [.. nobody, "cat", "hello.txt"]).Text);
        Assert.Contains(m.Decider.Asked, a => a.Path == m.HostPath("hello.txt"));
    }

    [Fact]
    public void A_decider_answering_ENOSYS_denies_and_opens_stay_decided()
    {
        using var m = ViewMirror.MountOrAssertRefused();
        if (m is null)
        {
            return;
        }

        // ENOSYS to an OPEN would tell the kernel that the file system needs no opens: it would stop sending them
        // for every file, and every later open would succeed without a question.
        m.Decider.Rule = (path, kind, c) => ValueTask.FromResult(path == m.HostPath("secret.txt") ? Errno.ENOSYS : Errno.None);
        for (int i = 1; i <= 2; i++)
        {
            var r = m.Run("cat", "secret.txt");
            Assert.NotEqual(0, r.ExitCode);
            Assert.Contains("Permission denied", r.Stderr);
            Assert.DoesNotContain(m.Marker, r.All());
            Assert.Equal(i, m.Decider.Count(m.HostPath("secret.txt")));
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_directory_swapped_for_a_symlink_on_the_host_is_not_followed(bool pinned)
    {
        using var m = ViewMirror.MountOrAssertRefused(prepare: mirror =>
        {
            Directory.CreateDirectory(mirror.HostPath("d"));
            File.WriteAllText(Path.Combine(mirror.HostPath("d"), "x"), "harmless\n");
            Directory.CreateDirectory(mirror.HostPath("vault"));
            File.WriteAllText(Path.Combine(mirror.HostPath("vault"), "x"), mirror.Marker + " vault\n");
        });
        if (m is null)
        {
            return;
        }

        var baseRule = m.Decider.Rule;
        m.Decider.Rule = (path, kind, c) =>
            path.StartsWith(m.HostPath("vault"), StringComparison.Ordinal) ? ValueTask.FromResult(Errno.EACCES) : baseRule(path, kind, c);
        if (pinned)
        {
            // A pinned directory's attributes are not fetched again (hours of timeout) and its identity is not
            // checked; an unpinned one is caught by GETATTR's identity check too, except in the window between a
            // GETATTR and the LOOKUP after it (attributes count as fresh for the rest of that clock tick).
            m.Fs.Pin(m.HostPath("d"));
        }

        string go = m.HostPath("go");

        // The program stands in d (its cwd is not revalidated), then d becomes a link to the vault on the host (as
        // when cordon performs a rename the program asked for), then it opens x relative to its cwd. Following the
        // link on the host would serve vault/x under the decided name d/x.
        using var sh = m.Start("sh", "-c", $"cd d && while [ ! -e '{go}' ]; do sleep 0.02; done; cat x");
        Assert.True(ViewMirror.Eventually(() => ReadLink($"/proc/{sh.Id}/cwd") == m.ViewPath("d")));
        Directory.Move(m.HostPath("d"), m.HostPath("d-old"));
        File.CreateSymbolicLink(m.HostPath("d"), "vault");
        File.WriteAllText(go, "");
        var r = ViewMirror.Finish(sh, 20);
        Assert.NotEqual(-1, r.ExitCode);
        Assert.DoesNotContain(m.Marker, r.All());
        Assert.Contains("Stale file handle", r.Stderr);
        Assert.Equal(0, m.Decider.Count(m.HostPath("d/x")));

        if (!pinned)
        {
            // Through the link by name, the kernel follows it in the view and the vault is decided (and denied).
            var named = m.Run("cat", "d/x");
            Assert.DoesNotContain(m.Marker, named.All());
            Assert.Contains("Permission denied", named.Stderr);
            Assert.Equal(1, m.Decider.Count(m.HostPath("vault/x")));
        }
    }

    [Fact]
    public void A_pinned_directory_keeps_its_bind_mount_when_the_host_changes()
    {
        string bound = Directory.CreateTempSubdirectory("cordon-view-bound-").FullName;
        File.WriteAllText(Path.Combine(bound, "from-the-bind"), "bound\n");
        try
        {
            using var m = ViewMirror.MountOrAssertRefused(prepare: mirror =>
            {
                Directory.CreateDirectory(mirror.HostPath("outer/pinned"));
                Directory.CreateDirectory(mirror.HostPath("outer/unpinned"));
            });
            if (m is null)
            {
                return;
            }

            m.Fs.Pin(m.HostPath("outer/pinned"));
            Assert.Throws<ArgumentException>(() => m.Fs.Pin("/somewhere/else"));
            foreach (var name in new[] { "outer/pinned", "outer/unpinned" })
            {
                Assert.Equal(0, Libc.Mount(bound, m.ViewPath(name), "none", 4096 /* MS_BIND */, ""));
                Assert.True(File.Exists(m.ViewPath(name + "/from-the-bind")));
            }

            // Both host directories are replaced by new ones (another inode at the same path).
            foreach (var name in new[] { "outer/pinned", "outer/unpinned" })
            {
                Directory.Move(m.HostPath(name), m.HostPath(name + "-old"));
                Directory.CreateDirectory(m.HostPath(name));
            }

            // Once the kernel's cache of the names has run out, the unpinned one is revalidated, gets a new node, and
            // the kernel drops the mount on it: the test can tell. The pinned one is not revalidated for hours and
            // keeps its bind.
            Thread.Sleep(TimeSpan.FromSeconds(ViewFileSystem.CacheSeconds) + TimeSpan.FromMilliseconds(300));
            Assert.False(File.Exists(m.ViewPath("outer/unpinned/from-the-bind")));
            Assert.True(File.Exists(m.ViewPath("outer/pinned/from-the-bind")));
            Assert.Equal("bound\n", m.Run("cat", "outer/pinned/from-the-bind").Text);
            _ = ViewMirror.Unmount(m.ViewPath("outer/pinned"));
        }
        finally
        {
            Directory.Delete(bound, recursive: true);
        }
    }

    private static string ReadLink(string path)
    {
        try
        {
            return new FileInfo(path).LinkTarget ?? "";
        }
        catch (IOException)
        {
            return "";
        }
        catch (UnauthorizedAccessException)
        {
            return "";
        }
    }

    private static string Sorted(string lines) => string.Join('\n', lines.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal));

    /// <summary>Every path below <paramref name="root"/> with its type, mode and content hash.</summary>
    private static string Snapshot(string root)
    {
        var text = new StringBuilder();
        foreach (var path in Directory.EnumerateFileSystemEntries(root, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var info = new FileInfo(path);
            text.Append(path).Append(' ').Append(File.GetUnixFileMode(path)).Append(' ').Append(info.LinkTarget);
            if (info.LinkTarget is null && !info.Attributes.HasFlag(FileAttributes.Directory))
            {
                text.Append(' ').Append(Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path))));
            }

            text.Append('\n');
        }

        return text.ToString();
    }
}

internal static class ProgramResultExtensions
{
    public static string All(this ProgramResult r) => r.Text + r.Stderr;
}
