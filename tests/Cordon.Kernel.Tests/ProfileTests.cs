using System.Diagnostics;
using System.Text.Json;
using Xunit;

namespace Cordon.Kernel.Tests;

/// <summary>Profiles, learn mode, the audit log and doctor, through the real cordon binary.</summary>
public sealed class ProfileTests : IDisposable
{
    private readonly Sandboxed s = new();

    public void Dispose() => s.Dispose();

    private string ProfileDir => Path.Combine(s.Home, ".config", "cordon", "profiles");

    [Fact]
    public void A_broken_profile_stops_cordon_with_file_line_and_column_before_anything_runs()
    {
        var marker = Path.Combine(s.Work, "ran");
        var bad = s.WorkFile("bad.yaml", "read:\n  allow: [\".\"]\nwrite:\n  alow: [x]\n");
        var r = s.Cordon("run", "--profile", bad, "--", "touch", marker);
        Assert.Equal(125, r.ExitCode);
        Assert.Contains($"{bad}:4:3: unknown key \"alow\"", r.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(marker));

        var badNet = s.WorkFile("badnet.yaml", "net:\n  allow:\n    - \"300.1.2.3:99999\"\n");
        r = s.Cordon("run", "--profile", badNet, "--", "true");
        Assert.Equal(125, r.ExitCode);
        Assert.Contains($"{badNet}:3:7:", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void A_profile_named_after_the_program_is_used_by_default_and_another_can_be_chosen()
    {
        var notes = Path.Combine(s.Home, "notes.txt");
        File.WriteAllText(notes, "notes\n");
        Directory.CreateDirectory(ProfileDir);
        File.WriteAllText(Path.Combine(ProfileDir, "cat.yaml"), $"read:\n  allow: [\"~/notes.txt\"]\n");
        var r = s.Cordon("run", "--no-prompt", "--", "cat", notes);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("notes\n", r.Stdout);

        File.WriteAllText(Path.Combine(ProfileDir, "strict.yaml"), "read:\n  deny: [\"~\"]\n");
        r = s.Cordon("run", "--no-prompt", "--profile", "strict", "--", "cat", notes);
        Assert.NotEqual(0, r.ExitCode);
    }

    [Fact]
    public void A_projects_own_profile_is_ignored_until_trusted_and_again_after_a_change()
    {
        var notes = Path.Combine(s.Home, "notes.txt");
        File.WriteAllText(notes, "notes\n");
        var project = s.WorkFile(".cordon.yaml", "read:\n  allow: [\"~\"]\n");
        var r = s.Cordon("run", "--no-prompt", "--", "cat", notes);
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("ignoring .cordon.yaml", r.Stderr, StringComparison.Ordinal);

        Assert.Equal(0, s.Cordon("profile", "trust", project).ExitCode);
        r = s.Cordon("run", "--no-prompt", "--", "cat", notes);
        Assert.True(r.ExitCode == 0, r.ToString());

        File.AppendAllText(project, "write:\n  allow: [\"~\"]\n");
        r = s.Cordon("run", "--no-prompt", "--", "cat", notes);
        Assert.NotEqual(0, r.ExitCode);
    }

    [Fact]
    public void The_sandbox_cannot_change_cordons_profiles_even_with_the_home_granted()
    {
        Directory.CreateDirectory(ProfileDir);
        var target = Path.Combine(ProfileDir, "sh.yaml");
        var r = s.Cordon("run", "--no-prompt", "--allow-read=" + s.Home, "--allow-write=" + s.Home, "--", "sh", "-c", $"echo 'read: {{allow: [\"/\"]}}' > {target}");
        Assert.NotEqual(0, r.ExitCode);
        Assert.False(File.Exists(target));
    }

    [Fact]
    public void A_symlinked_config_directory_is_protected_where_it_really_is()
    {
        var real = Path.Combine(s.Root, "real-config");
        Directory.CreateDirectory(real);
        Directory.CreateSymbolicLink(Path.Combine(s.Home, ".config"), real);
        var target = Path.Combine(real, "cordon", "profiles", "sh.yaml");
        var r = s.Cordon("run", "--no-prompt", "--allow-read=" + s.Root, "--allow-write=" + s.Root, "--", "sh", "-c", $"mkdir -p {Path.GetDirectoryName(target)} && echo 'read: {{allow: [\"/\"]}}' > {target}");
        Assert.NotEqual(0, r.ExitCode);
        Assert.False(File.Exists(target));
    }

    [Fact]
    public void Files_cordon_writes_for_the_user_are_private_whatever_the_umask()
    {
        // The seccomp engine runs with umask 0 (it creates files for the program with the program's umask), and the
        // learned profile, saved answers and the log are written during or after the run: each must still be 0600
        // in directories created 0700 (they were 0666 and 0777).
        var learned = Path.Combine(ProfileDir, "learned.yaml");
        var log = Path.Combine(s.Home, "logs", "decisions.json");
        Directory.CreateDirectory(Path.GetDirectoryName(log)!);
        var r = s.Cordon("run", "--learn", learned, "--log", log, "--", "cat", "/etc/hostname");
        Assert.True(r.ExitCode == 0, r.ToString());
        r = s.Cordon("profile", "add", "tool", "read", "allow", "~/notes");
        Assert.True(r.ExitCode == 0, r.ToString());
        foreach (var (path, mode) in new[] { (learned, "600"), (log, "600"), (Path.Combine(ProfileDir, "tool.yaml"), "600"), (ProfileDir, "700") })
        {
            Assert.Equal(mode + " " + path, s.Bare("stat", "-c", "%a %n", path).Stdout.Trim());
        }
    }

    [Fact]
    public void Under_sudo_profiles_and_logs_in_the_users_home_are_written_as_that_user()
    {
        // sudo sets SUDO_UID/SUDO_GID; cordon honours them only when it really runs as root. The user here is
        // "nobody" (65534), which every Debian system has.
        const string Nobody = "65534";
        var sudo = new Dictionary<string, string> { ["SUDO_UID"] = Nobody, ["SUDO_GID"] = Nobody };
        bool root = Interop.Libc.GetEUid() == 0;
        string me = root ? $"{Nobody}:{Nobody}" : $"{s.Bare("id", "-u").Stdout.Trim()}:{s.Bare("id", "-g").Stdout.Trim()}";
        if (root)
        {
            File.SetUnixFileMode(s.Root, (UnixFileMode)0b111_101_101);
            Assert.Equal(0, s.Bare("chown", "-R", $"{Nobody}:{Nobody}", s.Home).ExitCode);
        }

        // A run first: it creates cordon's configuration directory in a fresh home, which later saves write into.
        var log = Path.Combine(s.Home, "decisions.json");
        var r = s.Cordon(["run", "--no-prompt", "--log", log, "--", "true"], sudo);
        Assert.True(r.ExitCode == 0, r.ToString());
        r = s.Cordon(["profile", "add", "tool", "read", "allow", "~/notes"], sudo);
        Assert.True(r.ExitCode == 0, r.ToString());
        foreach (var made in new[] { Path.Combine(s.Home, ".config"), Path.GetDirectoryName(ProfileDir)!, ProfileDir, Path.Combine(ProfileDir, "tool.yaml"), log })
        {
            Assert.Equal(me, s.Bare("stat", "-c", "%u:%g", made).Stdout.Trim());
        }

        // A symlink planted in the home (the user's, or a program's that cordon ran as the user) must not steer a
        // save into a directory the user cannot write: written as the user, the save fails there.
        var system = Path.Combine(s.Root, "system");
        Directory.CreateDirectory(system);
        File.SetUnixFileMode(system, (UnixFileMode)0b111_101_101); // not the umask: another test changes this process's
        Directory.Delete(ProfileDir, recursive: true);
        File.CreateSymbolicLink(ProfileDir, system);
        r = s.Cordon(["profile", "add", "tool", "read", "allow", "~/notes"], sudo);
        if (root)
        {
            Assert.NotEqual(0, r.ExitCode);
            Assert.Contains("cordon:", r.Stderr, StringComparison.Ordinal);
            Assert.Empty(Directory.GetFileSystemEntries(system));
        }
        else
        {
            // Without root there is no one else to be: the save goes where the symlink points, as any write of the user.
            Assert.True(r.ExitCode == 0, r.ToString());
            Assert.True(File.Exists(Path.Combine(system, "tool.yaml")));
        }
    }

    [Fact]
    public void Concurrent_saves_from_two_processes_lose_nothing()
    {
        var psis = Enumerable.Range(0, 2).Select(p =>
        {
            var script = string.Join("\n", Enumerable.Range(0, 12).Select(i =>
                $"{Sandboxed.CordonShell} profile add shared read allow /data/p{p}/f{i} || echo FAILED"));
            var psi = new ProcessStartInfo("sh", ["-c", script]) { RedirectStandardOutput = true, UseShellExecute = false };
            psi.Environment["HOME"] = s.Home;
            psi.Environment["XDG_CONFIG_HOME"] = Path.Combine(s.Home, ".config");
            return psi;
        }).ToList();
        var procs = psis.Select(p => Process.Start(p)!).ToList();
        foreach (var p in procs)
        {
            Assert.DoesNotContain("FAILED", p.StandardOutput.ReadToEnd(), StringComparison.Ordinal);
            p.WaitForExit();
        }

        var text = File.ReadAllText(Path.Combine(ProfileDir, "shared.yaml"));
        for (int p = 0; p < 2; p++)
        {
            for (int i = 0; i < 12; i++)
            {
                Assert.Contains($"\"/data/p{p}/f{i}\"", text, StringComparison.Ordinal);
            }
        }

        Assert.Equal(0, s.Cordon("profile", "show", "shared").ExitCode);
    }

    [Fact]
    public void Learn_mode_on_git_clone_and_make_writes_a_profile_that_passes_the_same_run_and_still_denies_ssh()
    {
        var repo = Path.Combine(s.Root, "upstream");
        Directory.CreateDirectory(repo);
        File.WriteAllText(Path.Combine(repo, "Makefile"), "all: hello\nhello: hello.c\n\tcc -o hello hello.c\n");
        File.WriteAllText(Path.Combine(repo, "hello.c"), "#include <stdio.h>\nint main(void) { puts(\"hello from the build\"); return 0; }\n");
        foreach (var args in new[] { "init -q", "add .", "-c user.email=t@t -c user.name=t commit -qm init" })
        {
            var g = s.Bare("sh", "-c", $"cd {repo} && git {args}");
            Assert.True(g.ExitCode == 0, g.ToString());
        }

        var learned = Path.Combine(s.Root, "learned.yaml");
        string job = $"git clone -q {repo} clone && make -C clone && ./clone/hello";
        var first = s.Cordon("run", "--learn", learned, "--", "sh", "-c", job);
        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.Contains("hello from the build", first.Stdout, StringComparison.Ordinal);
        Assert.Contains("learned", first.Stderr, StringComparison.Ordinal);
        var profile = File.ReadAllText(learned);
        Assert.DoesNotContain(".ssh", profile, StringComparison.Ordinal);

        Directory.Delete(Path.Combine(s.Work, "clone"), recursive: true);
        var again = s.Cordon("run", "--no-prompt", "--profile", learned, "--", "sh", "-c", job);
        Assert.True(again.ExitCode == 0, again + "\n--- profile ---\n" + profile);
        Assert.Contains("hello from the build", again.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("denied", again.Stderr, StringComparison.Ordinal);

        var ssh = s.Cordon("run", "--no-prompt", "--profile", learned, "--", "cat", s.Secret);
        Assert.NotEqual(0, ssh.ExitCode);
        s.AssertNoSecret(ssh);
    }

    [Fact]
    public void Learn_mode_keeps_sensitive_files_exact_and_flags_them()
    {
        var learned = Path.Combine(s.Root, "learned.yaml");
        var r = s.Cordon("run", "--learn", learned, "--", "cat", s.Secret);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("SENSITIVE", r.Stderr, StringComparison.Ordinal);
        var text = File.ReadAllText(learned);
        Assert.Contains("\"only:~/.ssh/id_rsa\"", text, StringComparison.Ordinal); // exact, written portably
        Assert.DoesNotContain("\"~/.ssh\"", text, StringComparison.Ordinal);
        Assert.DoesNotContain($"\"{Path.GetDirectoryName(s.Secret)}\"", text, StringComparison.Ordinal);
    }

    [Fact]
    public void The_audit_log_has_one_json_record_per_decision_and_log_explains_them()
    {
        var allowed = s.WorkFile("ok.txt", "fine\n");
        var log = Path.Combine(s.Root, "audit.jsonl");
        var r = s.Cordon("run", "--no-prompt", "--log", log, "--allow-read=" + s.Work, "--", "sh", "-c", $"cat {allowed}; cat {s.Secret}; true");
        Assert.True(r.ExitCode == 0, r.ToString());
        var records = File.ReadAllLines(log).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        var denied = records.Single(e => e.GetProperty("value").GetString() == s.Secret);
        Assert.Equal("read", denied.GetProperty("perm").GetString());
        Assert.Equal("deny", denied.GetProperty("verdict").GetString());
        Assert.Equal("default", denied.GetProperty("source").GetString());
        Assert.Equal("/usr/bin/cat", denied.GetProperty("exe").GetString());
        Assert.Equal(1, denied.GetProperty("v").GetInt32());
        Assert.True(denied.GetProperty("pid").GetInt32() > 0);
        var ok = records.First(e => e.GetProperty("value").GetString() == allowed);
        Assert.Equal("allow", ok.GetProperty("verdict").GetString());
        Assert.Equal("flag", ok.GetProperty("source").GetString());
        Assert.Contains("--allow-read=", ok.GetProperty("rule").GetString(), StringComparison.Ordinal);

        var summary = s.Cordon("log", log);
        Assert.True(summary.ExitCode == 0, summary.ToString());
        Assert.Contains(s.Secret, summary.Stdout, StringComparison.Ordinal);
        Assert.Contains("denied", summary.Stdout, StringComparison.Ordinal);

        var why = s.Cordon("log", log, "--why", allowed);
        Assert.Contains("allow (flag: --allow-read=" + s.Work, why.Stdout, StringComparison.Ordinal);
        why = s.Cordon("log", log, "--why", s.Secret);
        Assert.Contains("deny (default: no rule allows it", why.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Doctor_says_cordon_can_run_here()
    {
        var r = s.Cordon("doctor");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("ok    seccomp user notification", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("Landlock ABI", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("pseudo-terminals", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("verdict: cordon can run here.", r.Stdout, StringComparison.Ordinal);
    }
}
