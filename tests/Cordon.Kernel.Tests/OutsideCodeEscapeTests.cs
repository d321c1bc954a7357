using System.Net.Sockets;
using Xunit;

namespace Cordon.Kernel.Tests;

/// <summary>tests/escape/outside.c, compiled once per test run.</summary>
public static class OutsideProgram
{
    private static readonly Lazy<string> Built = new(() => EscapeProgram.Compile("outside"));

    public static string Path => Built.Value;
}

/// <summary>
/// Issue 17, point 3: with the project folder readable and writable (what users grant), a script must not plant
/// code that git, an editor, direnv or a shell runs later outside the sandbox; and it must not reach the daemons
/// (docker, an ssh-agent, the session bus) that act outside it for whoever connects.
/// </summary>
public sealed class OutsideCodeEscapeTests : IDisposable
{
    private readonly Sandboxed s = new();

    public void Dispose() => s.Dispose();

    private string Repo => Path.Combine(s.Work, "repo");

    /// <summary>A repository the user had before the run: committed once, hooks folder with git's samples only.</summary>
    private void UserRepository()
    {
        s.WorkFile("repo/readme", "hi\n");
        foreach (var args in new[] { "init -q", "add readme", "-c user.email=t@t -c user.name=t commit -qm first" })
        {
            var g = s.Bare("sh", "-c", $"cd {Repo} && git {args}");
            Assert.True(g.ExitCode == 0, g.ToString());
        }
    }

    private RunResult Outside(params string[] args)
    {
        var r = s.Cordon(["run", "--allow-read=" + s.Work, "--allow-write=" + s.Work, "--", OutsideProgram.Path, .. args]);
        s.AssertNoSecret(r);
        Assert.DoesNotContain("ESCAPED", r.Stdout, StringComparison.Ordinal);
        Assert.True(r.ExitCode == 0 && r.Stdout.Contains("stopped:", StringComparison.Ordinal), r.ToString());
        return r;
    }

    [Fact]
    public void Hooks_and_git_settings_planted_by_a_script_never_run_when_the_user_later_runs_git()
    {
        UserRepository();
        var marks = Path.Combine(s.Root, "marks");
        Directory.CreateDirectory(marks);
        string config = File.ReadAllText(Path.Combine(Repo, ".git/config"));
        // What a malicious postinstall script does with only the project folder writable (issue 17).
        string attack = string.Join(" ; ", [
            $"printf '#!/bin/sh\\ntouch {marks}/pre-commit\\n' > .git/hooks/pre-commit",
            "chmod +x .git/hooks/pre-commit",
            $"git config core.fsmonitor 'touch {marks}/fsmonitor; false'",
            $"git config alias.st '!touch {marks}/alias'",
            $"git config core.hooksPath {s.Work}/myhooks",
            $"printf '[core]\\n\\tfsmonitor = touch {marks}/appended\\n' >> .git/config",
            $"printf '* filter=evil\\n' >> .git/info/attributes",
            "mkdir -p .vscode",
            $"printf '{{\"tasks\":[{{\"command\":\"touch {marks}/vscode\",\"runOptions\":{{\"runOn\":\"folderOpen\"}}}}]}}' > .vscode/tasks.json",
            $"echo 'touch {marks}/direnv' > .envrc",
            "mkdir -p .idea && echo x > .idea/workspace.xml",
            $"echo 'touch {marks}/bashrc' >> .bashrc",
            // Hooks that git runs through core.hooksPath or a hook manager, and commands an AI agent or an editor runs.
            $"mkdir -p .husky && printf '#!/bin/sh\\ntouch {marks}/husky\\n' > .husky/pre-commit",
            $"printf 'repos:\\n- repo: local\\n  hooks:\\n  - id: x\\n    entry: touch {marks}/pre-commit-framework\\n' > .pre-commit-config.yaml",
            $"printf 'pre-commit:\\n  commands:\\n    x:\\n      run: touch {marks}/lefthook\\n' > lefthook.yml",
            $"mkdir -p .claude && printf '{{\"hooks\":{{\"SessionStart\":[{{\"hooks\":[{{\"type\":\"command\",\"command\":\"touch {marks}/claude\"}}]}}]}}}}' > .claude/settings.json",
            $"printf '{{\"mcpServers\":{{\"x\":{{\"command\":\"touch\",\"args\":[\"{marks}/mcp\"]}}}}}}' > .mcp.json",
            $"mkdir -p .devcontainer && printf '{{\"initializeCommand\":\"touch {marks}/devcontainer\"}}' > .devcontainer/devcontainer.json",
            $"mkdir -p .cargo && printf '[build]\\nrustc-wrapper = \"{marks}/cargo\"\\n' > .cargo/config.toml",
            $"mkdir -p .mvn && echo '-javaagent:{marks}/agent.jar' > .mvn/jvm.config",
            "echo done",
        ]);
        var r = s.Cordon("run", "--allow-read=" + s.Work, "--allow-write=" + s.Work, "--", "sh", "-c", $"cd {Repo} && {attack}");
        Assert.Contains("done", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("guard: code that runs outside the sandbox", r.Stderr, StringComparison.Ordinal);
        Assert.Contains("to allow it: --allow-write=" + Path.Combine(Repo, ".git/hooks/pre-commit"), r.Stderr, StringComparison.Ordinal);

        // Later, outside cordon, the user works in the repository as usual.
        foreach (var cmd in new[] { "git status", "git st", "git -c user.email=t@t -c user.name=t commit -q --allow-empty -m second" })
        {
            s.Bare("sh", "-c", $"cd {Repo} && {cmd}");
        }

        Assert.Empty(Directory.GetFiles(marks));
        Assert.Equal(config, File.ReadAllText(Path.Combine(Repo, ".git/config")));
        Assert.False(File.Exists(Path.Combine(Repo, ".git/hooks/pre-commit")));
        foreach (var planted in new[] { ".vscode/tasks.json", ".envrc", ".idea/workspace.xml", ".bashrc", ".husky/pre-commit", ".pre-commit-config.yaml",
            "lefthook.yml", ".claude/settings.json", ".mcp.json", ".devcontainer/devcontainer.json", ".cargo/config.toml", ".mvn/jvm.config" })
        {
            Assert.False(File.Exists(Path.Combine(Repo, planted)), planted + " was written:\n" + r);
        }
    }

    [Fact]
    public void With_everything_allowed_a_script_still_cannot_plant_code_in_the_home_directory()
    {
        // -A grants every write, but not what git, the login, the PATH, an editor or ssh run later (the guard).
        File.WriteAllText(Path.Combine(s.Home, ".gitconfig"), "[user]\n\tname = me\n");
        string gitconfig = File.ReadAllText(Path.Combine(s.Home, ".gitconfig"));
        string attack = string.Join(" ; ", [
            "printf '[core]\\n\\tfsmonitor = touch planted\\n' >> ~/.gitconfig",
            "git config --global alias.st '!touch planted'",
            "mkdir -p ~/.local/bin && cp /bin/true ~/.local/bin/git",
            "mkdir -p ~/.config/autostart && echo '[Desktop Entry]' > ~/.config/autostart/evil.desktop",
            "mkdir -p ~/.config/systemd/user && echo '[Service]' > ~/.config/systemd/user/evil.service",
            "echo 'ssh-ed25519 AAAA evil' >> ~/.ssh/authorized_keys",
            "mkdir -p ~/.local/lib/python3.11/site-packages && echo 'import os' > ~/.local/lib/python3.11/site-packages/evil.pth",
            "echo '!touch planted' > ~/.vimrc",
            "echo done",
        ]);
        var r = s.Cordon("run", "-A", "--", "sh", "-c", attack);
        Assert.Contains("done", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("guard: code that runs outside the sandbox: git settings", r.Stderr, StringComparison.Ordinal);
        Assert.Contains("guard: code that runs outside the sandbox: programs on your PATH", r.Stderr, StringComparison.Ordinal);
        Assert.Equal(gitconfig, File.ReadAllText(Path.Combine(s.Home, ".gitconfig")));
        foreach (var planted in new[] { ".local/bin", ".config/autostart", ".config/systemd", ".ssh/authorized_keys", ".local/lib/python3.11", ".vimrc" })
        {
            Assert.False(Path.Exists(Path.Combine(s.Home, planted)), planted + " was written:\n" + r);
        }

        // What -A is for still works in the home directory: a cache, a project, a file of its own.
        var ok = s.Cordon("run", "-A", "--", "sh", "-c", "mkdir -p ~/.cache/tool && echo x > ~/.cache/tool/x && echo y > ~/notes.txt && cat ~/.cache/tool/x ~/notes.txt");
        Assert.True(ok.ExitCode == 0, ok.ToString());
        Assert.Equal("x\ny\n", ok.Stdout);
    }

    [Fact]
    public void A_hook_renamed_linked_or_symlinked_into_place_is_refused()
    {
        UserRepository();
        var hook = "#!/bin/sh\necho planted\n";
        Outside("rename", Path.Combine(s.Work, "staged1"), Path.Combine(Repo, ".git/hooks/pre-commit"), hook);
        Outside("hardlink", Path.Combine(s.Work, "staged2"), Path.Combine(Repo, ".git/hooks/post-checkout"), hook);
        Outside("symlink", Path.Combine(s.Work, "staged3"), Path.Combine(Repo, ".git/hooks/pre-push"), hook);
        Outside("rename", Path.Combine(s.Work, "staged4"), Path.Combine(Repo, ".git/config"), "[core]\n\tfsmonitor = echo planted\n");
        Outside("rename", Path.Combine(s.Work, "staged5"), Path.Combine(Repo, ".envrc"), "echo planted\n");
        Outside("write", Path.Combine(Repo, ".git/hooks/post-merge"), hook);
        Assert.DoesNotContain("planted", File.ReadAllText(Path.Combine(Repo, ".git/config")), StringComparison.Ordinal);
        Assert.DoesNotContain(Directory.GetFiles(Path.Combine(Repo, ".git/hooks")), f => !f.EndsWith(".sample", StringComparison.Ordinal));
    }

    [Fact]
    public void A_gitdir_link_or_a_swapped_repository_does_not_make_the_users_git_run_planted_code()
    {
        UserRepository();
        Directory.CreateDirectory(Path.Combine(s.Work, "sub"));
        // A .git file in a folder the user had points git at a repository the script prepared elsewhere.
        Outside("write", Path.Combine(s.Work, "sub/.git"), "gitdir: ../evil\n");
        Assert.False(File.Exists(Path.Combine(s.Work, "sub/.git")));
        // Moving the user's .git away (to put a prepared one in its place) is a write of it.
        Outside("move-away", Path.Combine(Repo, ".git"), Path.Combine(s.Work, "old-git"));
        Assert.True(Directory.Exists(Path.Combine(Repo, ".git/objects")));
        // A folder the run created is its own, but the user's repository renamed onto it is not.
        Outside("swap-created", Path.Combine(s.Work, "fresh"), Repo, ".git/hooks/pre-commit");
        Assert.False(File.Exists(Path.Combine(Repo, ".git/hooks/pre-commit")));
        Assert.True(Directory.Exists(Path.Combine(Repo, ".git/objects")));
    }

    [Fact]
    public void Git_clone_and_commit_inside_still_work_with_no_prompt_when_the_folder_is_granted()
    {
        UserRepository();
        var upstream = Path.Combine(s.Root, "upstream");
        Directory.CreateDirectory(Path.Combine(upstream, ".vscode"));
        File.WriteAllText(Path.Combine(upstream, ".vscode/settings.json"), "{}\n");
        File.WriteAllText(Path.Combine(upstream, ".gitattributes"), "*.sh text eol=lf\n");
        File.WriteAllText(Path.Combine(upstream, "main.c"), "int main(void) { return 0; }\n");
        foreach (var args in new[] { "init -q", "add .", "-c user.email=t@t -c user.name=t commit -qm init" })
        {
            var g = s.Bare("sh", "-c", $"cd {upstream} && git {args}");
            Assert.True(g.ExitCode == 0, g.ToString());
        }

        string job = string.Join(" && ", [
            $"git clone -q file://{upstream} clone", // a transport, as from a server (a local path clone hard-links objects)
            "cd clone && echo more >> main.c && git add main.c && git -c user.email=t@t -c user.name=t commit -qm inside",
            $"cd {Repo} && echo more >> readme && git add readme && git -c user.email=t@t -c user.name=t commit -qm inside",
            "git log --format=%s",
        ]);
        var r = s.Cordon("run", "--no-prompt", "--allow-read=" + s.Work + "," + upstream, "--allow-write=" + s.Work, "--", "sh", "-c", job);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("inside\nfirst\n", r.Stdout);
        Assert.DoesNotContain("denied", r.Stderr, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(s.Work, "clone/.vscode/settings.json")));
        Assert.DoesNotContain("created a git repository", r.Stderr, StringComparison.Ordinal);

        // git init in a folder the user had works too, and cordon says the repository's settings are the program's.
        Directory.CreateDirectory(Path.Combine(s.Work, "fresh"));
        var init = s.Cordon("run", "--no-prompt", "--allow-read=" + s.Work, "--allow-write=" + s.Work, "--", "git", "init", "-q", Path.Combine(s.Work, "fresh"));
        Assert.True(init.ExitCode == 0, init.ToString());
        Assert.Contains($"cordon: the program created a git repository at {s.Work}/fresh/.git", init.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void A_rule_naming_the_guarded_file_lets_it_be_written()
    {
        UserRepository();
        var hook = Path.Combine(Repo, ".git/hooks/pre-commit");
        var r = s.Cordon("run", "--allow-read=" + s.Work, "--allow-write=" + s.Work + "," + hook, "--", "sh", "-c", $"echo '#!/bin/sh' > {hook}");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.True(File.Exists(hook));
    }

    [Fact]
    public void Learn_mode_marks_a_guarded_write_sensitive_and_the_log_names_the_guard()
    {
        UserRepository();
        var learned = Path.Combine(s.Root, "learned.yaml");
        var r = s.Cordon("run", "--learn", learned, "--", "sh", "-c", $"echo x >> {Repo}/.envrc; echo y > {Repo}/notes.txt");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("only:./repo/.envrc   <- SENSITIVE", r.Stderr, StringComparison.Ordinal); // learned profiles are portable: ./ is the project
        File.Delete(Path.Combine(Repo, ".envrc"));

        var log = Path.Combine(s.Root, "audit.jsonl");
        var denied = s.Cordon("run", "--log", log, "--allow-read=" + s.Work, "--allow-write=" + s.Work, "--", "sh", "-c", $"echo x >> {Repo}/.envrc");
        Assert.NotEqual(0, denied.ExitCode);
        Assert.Contains("\"source\":\"guard\"", File.ReadAllText(log), StringComparison.Ordinal);
        var why = s.Cordon("log", log, "--why", Path.Combine(Repo, ".envrc"));
        Assert.Contains("guard: code that runs outside the sandbox: a direnv script", why.Stdout, StringComparison.Ordinal);
    }

    /// <summary>A daemon standing in for docker, an ssh-agent or the session bus: a real listening Unix socket.</summary>
    private static (Socket Listener, Task<Socket> Accepted) Daemon(string path)
    {
        var daemon = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        daemon.Bind(new UnixDomainSocketEndPoint(path));
        daemon.Listen();
        return (daemon, daemon.AcceptAsync());
    }

    [Fact]
    public async Task Daemon_sockets_are_denied_even_with_every_network_destination_allowed()
    {
        var run = Directory.CreateDirectory(Path.Combine(s.Root, "run")).FullName;
        string agent = Path.Combine(run, "agent.42"), bus = Path.Combine(run, "bus"), docker = Path.Combine(run, "docker.sock");
        var daemons = new[] { agent, bus, docker }.Select(Daemon).ToList();
        try
        {
            var env = new Dictionary<string, string> { ["SSH_AUTH_SOCK"] = agent, ["DBUS_SESSION_BUS_ADDRESS"] = "unix:path=" + bus, ["DOCKER_HOST"] = "unix://" + docker };
            foreach (var flags in new[] { Array.Empty<string>(), ["--allow-net"], ["-A"] })
            {
                foreach (var socket in new[] { agent, bus, docker })
                {
                    var r = s.Cordon(["run", "--allow-read=" + s.Work, "--allow-write=" + s.Work, .. flags, "--", OutsideProgram.Path, "connect", socket], env);
                    Assert.True(r.ExitCode == 0 && r.Stdout.Contains("stopped:", StringComparison.Ordinal), string.Join(' ', flags) + "\n" + r);
                    Assert.Contains("--allow-net=unix:" + socket, r.Stderr, StringComparison.Ordinal);
                }
            }

            // The ssh-agent's variable is withheld (it looks secret); the socket is what is decided.
            var shown = s.Cordon(["run", "--allow-net", "--", "sh", "-c", "echo \"agent=${SSH_AUTH_SOCK:-none}\""], env);
            Assert.Contains("agent=none", shown.Stdout, StringComparison.Ordinal);

            await Task.Delay(300);
            Assert.All(daemons, d => Assert.False(d.Accepted.IsCompleted, "a denied connect must never reach the daemon"));

            // A rule that names the socket reaches it.
            var named = s.Cordon(["run", "--allow-net=unix:" + docker, "--", OutsideProgram.Path, "connect", docker], env);
            Assert.Contains("ESCAPED: connected", named.Stdout, StringComparison.Ordinal);
            using var peer = await daemons[2].Accepted.WaitAsync(TimeSpan.FromSeconds(10));
        }
        finally
        {
            daemons.ForEach(d => d.Listener.Dispose());
        }
    }
}

/// <summary>
/// Issue 19, point 9: as root, cordon opens files for the program as root, so the base rules (which grant /etc)
/// must grant only what the user could read without cordon. Unprivileged, the kernel refuses such a file anyway.
/// </summary>
public sealed class RootOnlyFileTests : IDisposable
{
    private readonly Sandboxed s = new();

    public void Dispose() => s.Dispose();

    [Fact]
    public void A_root_only_system_file_needs_a_rule_naming_it()
    {
        if (Environment.UserName != "root")
        {
            // The unprivileged half: a file under /etc this user cannot read stays unreadable under cordon.
            var locked = Directory.EnumerateFiles("/etc", "*", new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true })
                .FirstOrDefault(f => (File.GetUnixFileMode(f) & UnixFileMode.OtherRead) == 0 && File.ResolveLinkTarget(f, false) is null && CannotOpen(f))
                ?? "/etc/shadow";
            var r = s.Cordon("run", "--engine", "seccomp", "--allow-read=" + locked, "--", "cat", locked);
            Assert.NotEqual(0, r.ExitCode);
            Assert.Contains("Permission denied", r.Stderr, StringComparison.Ordinal);
            return;
        }

        var path = $"/etc/cordon-test-{Guid.NewGuid():N}.conf";
        File.WriteAllText(path, "host all all 0.0.0.0/0 trust # " + s.Marker + "\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);
        try
        {
            // Plain root: what "others" could read.
            var r = s.Cordon("run", "--engine", "seccomp", "--", "cat", path);
            s.AssertNoSecret(r);
            Assert.NotEqual(0, r.ExitCode);
            Assert.Contains("to allow it: --allow-read=" + path, r.Stderr, StringComparison.Ordinal);

            // Under sudo: what SUDO_UID with its groups could read. nobody is not in root's group, nogroup is its own.
            var sudo = new Dictionary<string, string> { ["SUDO_UID"] = "65534", ["SUDO_GID"] = "65534", ["SUDO_USER"] = "nobody" };
            var asNobody = s.Cordon(["run", "--engine", "seccomp", "--no-save", "--", "cat", path], sudo);
            s.AssertNoSecret(asNobody);
            Assert.NotEqual(0, asNobody.ExitCode);
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);
            Assert.Equal(0, s.Bare("chown", "0:65534", path).ExitCode);
            var inGroup = s.Cordon(["run", "--engine", "seccomp", "--no-save", "--", "cat", path], sudo);
            Assert.True(inGroup.ExitCode == 0, inGroup.ToString());

            // A rule naming the file still grants it, and world-readable system files are read as before.
            Assert.Equal(0, s.Bare("chown", "0:0", path).ExitCode);
            var named = s.Cordon("run", "--engine", "seccomp", "--allow-read=" + path, "--", "cat", path);
            Assert.True(named.ExitCode == 0, named.ToString());
            Assert.Contains(s.Marker, named.Stdout, StringComparison.Ordinal);
            var hostname = s.Cordon("run", "--engine", "seccomp", "--", "cat", "/etc/hostname");
            Assert.True(hostname.ExitCode == 0, hostname.ToString());
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static bool CannotOpen(string path)
    {
        try
        {
            using var f = File.OpenRead(path);
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return true;
        }
        catch (IOException)
        {
            return false;
        }
    }
}
