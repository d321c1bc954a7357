using Cordon.Policy;
using Xunit;

namespace Cordon.Policy.Tests;

/// <summary>The guard on files that run code outside the sandbox (git hooks and settings, editor tasks, direnv, rc files).</summary>
public class GuardTests
{
    private const string Project = "/home/u/project";

    private static Request Write(string path, Operation op = Operation.Write, bool directory = false) =>
        new(AccessKind.Write, op, path, null, new Subject(new ProcessSummary(42, "/usr/bin/x", ["x"]), 42, [], _ => false)) { MakesDirectory = directory };

    private static Rule Allow(string path) =>
        new(AccessKind.Write, Verdict.Allow, new PathDescriptor(path), DecisionSource.Flag, "--allow-write=" + path);

    private static Policy Build(IPrompter? prompter, params Rule[] user) =>
        new(user, BaseRules.For(new BaseContext("/home/u", "/tmp/cordon-run", "/usr/bin/make")), prompter, "/home/u");

    [Theory]
    [InlineData("/home/u/project/.git/hooks/pre-commit")]
    [InlineData("/home/u/project/.git/hooks")]
    [InlineData("/home/u/project/.git/config")]
    [InlineData("/home/u/project/.git/info/attributes")]
    [InlineData("/home/u/project/.git/modules/lib/config")]
    [InlineData("/home/u/project/.git")]
    [InlineData("/home/u/project/sub/deeper/.git/config")]
    [InlineData("/home/u/project/.vscode/tasks.json")]
    [InlineData("/home/u/project/.vscode")]
    [InlineData("/home/u/project/.idea/workspace.xml")]
    [InlineData("/home/u/project/.envrc")]
    [InlineData("/home/u/project/.gitmodules")]
    [InlineData("/home/u/project/.gitattributes")]
    [InlineData("/home/u/project/.bashrc")]
    [InlineData("/home/u/project/.profile")]
    [InlineData("/home/u/project/.npmrc")]
    [InlineData("/home/u/project/node/.zshrc")]
    [InlineData("/home/u/project/.husky/pre-commit")]
    [InlineData("/home/u/project/.githooks/pre-push")]
    [InlineData("/home/u/project/.pre-commit-config.yaml")]
    [InlineData("/home/u/project/lefthook.yml")]
    [InlineData("/home/u/project/sub/lefthook-local.yml")]
    [InlineData("/home/u/project/mise.toml")]
    [InlineData("/home/u/project/.mise.toml")]
    [InlineData("/home/u/project/.devcontainer/devcontainer.json")]
    [InlineData("/home/u/project/.mcp.json")]
    [InlineData("/home/u/project/.claude/settings.json")]
    [InlineData("/home/u/project/.claude/settings.local.json")]
    [InlineData("/home/u/project/.claude")]
    [InlineData("/home/u/project/.cursor/mcp.json")]
    [InlineData("/home/u/project/.gemini/settings.json")]
    [InlineData("/home/u/project/.cargo/config.toml")]
    [InlineData("/home/u/project/sub/.cargo/config")]
    [InlineData("/home/u/project/.mvn/jvm.config")]
    [InlineData("/home/u/project/.mvn/wrapper/maven-wrapper.properties")]
    public void A_write_to_a_guarded_name_in_an_allowed_folder_is_denied_with_the_reason(string path)
    {
        using var policy = Build(null, Allow(Project));
        var d = policy.Match(Write(path));
        Assert.NotNull(d);
        Assert.Equal(Verdict.Deny, d.Verdict);
        Assert.Equal(DecisionSource.Guard, d.Source);
        Assert.StartsWith("code that runs outside the sandbox", d.Rule, StringComparison.Ordinal);
        Assert.True(policy.IsSensitive(path)); // learn mode keeps it exact and flags it; no folder is offered
        Assert.Null(policy.SuggestFolder(Write(path)));
    }

    [Theory]
    [InlineData("/home/u/project/.git/objects/ab/cdef")]
    [InlineData("/home/u/project/.git/index")]
    [InlineData("/home/u/project/.git/refs/heads/config")]
    [InlineData("/home/u/project/.git/COMMIT_EDITMSG")]
    [InlineData("/home/u/project/.git/config.lock")]
    [InlineData("/home/u/project/Makefile")]
    [InlineData("/home/u/project/package.json")]
    [InlineData("/home/u/project/.env")]
    [InlineData("/home/u/project/src/hooks/config")]
    [InlineData("/home/u/project/node_modules/pkg/.vscode/settings.json")]
    [InlineData("/home/u/project/node_modules/pkg/.gitattributes")]
    [InlineData("/home/u/project/.gitignore")]
    [InlineData("/home/u/project/.claude/projects/x.jsonl")]
    [InlineData("/home/u/project/.claude/commands/review.md")]
    [InlineData("/home/u/project/.cursor/rules/style.mdc")]
    [InlineData("/home/u/project/.cargo/registry/x")]
    [InlineData("/home/u/project/.mvn/notes.txt")]
    [InlineData("/home/u/project/lefthook.yml/x")]
    [InlineData("/home/u/project/docs/mise.toml.example")]
    [InlineData("/home/u/project/node_modules/pkg/.husky/pre-commit")]
    public void Ordinary_project_files_and_what_git_commit_writes_are_not_guarded(string path)
    {
        using var policy = Build(null, Allow(Project));
        Assert.Equal(Verdict.Allow, policy.Match(Write(path))?.Verdict);
    }

    [Fact]
    public void Every_kind_of_write_is_guarded_creates_renames_links_deletes_and_attributes()
    {
        using var policy = Build(null, Allow(Project));
        foreach (var op in new[] { Operation.Write, Operation.Create, Operation.Delete, Operation.Rename, Operation.Link, Operation.Attributes })
        {
            Assert.Equal(DecisionSource.Guard, policy.Match(Write(Project + "/.git/hooks/pre-commit", op))?.Source);
        }
    }

    [Fact]
    public void A_rule_naming_the_file_or_the_guarded_folder_lifts_the_guard_a_parent_folder_does_not()
    {
        using var file = Build(null, Allow(Project), Allow(Project + "/.git/hooks/pre-commit"));
        Assert.Equal(Verdict.Allow, file.Match(Write(Project + "/.git/hooks/pre-commit"))?.Verdict);
        Assert.Equal(DecisionSource.Guard, file.Match(Write(Project + "/.git/hooks/post-checkout"))?.Source);

        using var folder = Build(null, Allow(Project), Allow(Project + "/.git/hooks"));
        Assert.Equal(Verdict.Allow, folder.Match(Write(Project + "/.git/hooks/post-checkout"))?.Verdict);
        Assert.Equal(DecisionSource.Guard, folder.Match(Write(Project + "/.git/config"))?.Source);

        using var parent = Build(null, Allow(Project), Allow(Project + "/.git"));
        Assert.Equal(DecisionSource.Guard, parent.Match(Write(Project + "/.git/config"))?.Source);

        var everything = new Rule(AccessKind.Write, Verdict.Allow, new AnyDescriptor(), DecisionSource.Flag, "--allow-write");
        using var all = Build(null, everything);
        Assert.Equal(DecisionSource.Guard, all.Match(Write(Project + "/.vscode/tasks.json"))?.Source);
    }

    [Theory]
    [InlineData("/home/u/.gitconfig", "git settings")]
    [InlineData("/home/u/.config/git/config", "git settings")]
    [InlineData("/home/u/.local/bin/git", "programs on your PATH")]
    [InlineData("/home/u/.local/bin", "programs on your PATH")]
    [InlineData("/home/u/bin/ls", "programs on your PATH")]
    [InlineData("/home/u/.cargo/bin/cargo-evil", "programs on your PATH")]
    [InlineData("/home/u/.cargo/config.toml", "cargo settings")]
    [InlineData("/home/u/.local/lib/python3.11/site-packages/evil.pth", "Python's user packages")]
    [InlineData("/home/u/.config/pip/pip.conf", "pip settings")]
    [InlineData("/home/u/.gradle/init.d/evil.gradle", "Gradle init scripts")]
    [InlineData("/home/u/.m2/settings.xml", "Maven settings")]
    [InlineData("/home/u/.nvm/nvm.sh", "nvm")]
    [InlineData("/home/u/.config/autostart/evil.desktop", "programs started at login")]
    [InlineData("/home/u/.config/systemd/user/evil.service", "systemd user services")]
    [InlineData("/home/u/.local/share/applications/firefox.desktop", "desktop launchers")]
    [InlineData("/home/u/.vimrc", "an editor start-up file")]
    [InlineData("/home/u/.config/nvim/init.lua", "an editor start-up file")]
    [InlineData("/home/u/.config/Code/User/settings.json", "VS Code settings")]
    [InlineData("/home/u/.config/VSCodium/User/tasks.json", "VS Code settings")]
    [InlineData("/home/u/.config/Cursor/User/settings.json", "Cursor settings")]
    [InlineData("/home/u/.tmux.conf", "tmux settings")]
    [InlineData("/home/u/.bash_aliases", "a shell start-up file")]
    [InlineData("/home/u/.config/fish/config.fish", "a shell start-up file")]
    [InlineData("/home/u/.ssh/authorized_keys", "credentials")]
    [InlineData("/home/u/.ssh/config", "credentials")]
    [InlineData("/home/u/.aws/config", "credentials")]
    [InlineData("/home/u/.kube/config", "credentials")]
    [InlineData("/home/u/.password-store/.gpg-id", "credentials")]
    public void A_place_in_the_home_directory_that_runs_later_is_guarded_under_a_rule_on_home_and_under_all_writes(string path, string what)
    {
        var everything = new Rule(AccessKind.Write, Verdict.Allow, new AnyDescriptor(), DecisionSource.Flag, "--allow-write");
        foreach (var rule in new[] { Allow("/home/u"), everything })
        {
            using var policy = Build(null, rule);
            var d = policy.Match(Write(path, Operation.Create));
            Assert.Equal(DecisionSource.Guard, d?.Source);
            Assert.Contains(what, d!.Rule, StringComparison.Ordinal);
            Assert.True(policy.IsSensitive(path, AccessKind.Write));
            var offered = policy.SuggestFolder(Write(path));
            if (what == "credentials")
            {
                Assert.Null(offered); // credentials get no folder
            }
            else if (offered is not null)
            {
                // A code place offers only itself, named, never a folder above it.
                Assert.Equal(policy.Guard.Find(path)?.Root, offered);
                Assert.StartsWith(offered + "/", path, StringComparison.Ordinal);
            }

            // Made by the run or not: a ~/.local/bin the run created is on the next login's PATH all the same.
            // (The home directory itself is never the run's own.)
            int slash = path.LastIndexOf('/');
            if (slash > "/home/u".Length)
            {
                policy.Guard.DirectoryCreated(path[..slash]);
            }

            policy.Guard.DirectoryCreated(path);
            Assert.Equal(DecisionSource.Guard, policy.Match(Write(path, Operation.Create))?.Source);
        }

        // A rule that names the place lifts the guard, as for a guarded name.
        int cut = path.IndexOf('/', "/home/u/.".Length);
        string place = cut < 0 ? path : path[..cut];
        using var named = Build(null, Allow("/home/u"), Allow(place == "/home/u/.local" ? "/home/u/.local/bin" : place));
        if (place != "/home/u/.local" && place != "/home/u/.config" && place != "/home/u/.cargo" && place != "/home/u/.gradle" && place != "/home/u/.m2")
        {
            Assert.Equal(Verdict.Allow, named.Match(Write(path, Operation.Create))?.Verdict);
        }
    }

    [Theory]
    [InlineData("/home/u/.cache/pip/http/x")]
    [InlineData("/home/u/.npm/_cacache/index-v5/x")]
    [InlineData("/home/u/.cargo/registry/cache/x.crate")]
    [InlineData("/home/u/.m2/repository/org/x.jar")]
    [InlineData("/home/u/.gradle/caches/x")]
    [InlineData("/home/u/.gitconfig.lock")]
    [InlineData("/home/u/binary")]
    [InlineData("/home/u/project/bin/tool")]
    [InlineData("/home/u/project/.local/bin/tool")]
    [InlineData("/home/u/.local/share/other/x")]
    [InlineData("/tmp/x/.gitconfig")]
    [InlineData("/srv/.local/bin/x")]
    public void What_a_home_place_does_not_cover_is_not_guarded(string path)
    {
        using var policy = Build(null, new Rule(AccessKind.Write, Verdict.Allow, new AnyDescriptor(), DecisionSource.Flag, "--allow-write"));
        Assert.Equal(Verdict.Allow, policy.Match(Write(path, Operation.Create))?.Verdict);
    }

    [Fact]
    public void An_agent_keeps_writing_its_own_state_but_not_its_hooks()
    {
        using var policy = Build(null, Allow("/home/u"));
        Assert.Equal(Verdict.Allow, policy.Match(Write("/home/u/.claude", Operation.Create, directory: true))?.Verdict);
        Assert.Equal(Verdict.Allow, policy.Match(Write("/home/u/.claude/projects/p/session.jsonl", Operation.Create))?.Verdict);
        Assert.Equal(Verdict.Allow, policy.Match(Write("/home/u/.claude.json"))?.Verdict);
        Assert.Equal(DecisionSource.Guard, policy.Match(Write("/home/u/.claude/settings.json"))?.Source);
        Assert.Equal(DecisionSource.Guard, policy.Match(Write("/home/u/.claude", Operation.Rename))?.Source); // a prepared folder moved in

        // A .claude the run made in the user's project is still where the user's agent looks; in a cloned project it is the run's.
        using var project = Build(null, Allow(Project));
        project.Guard.DirectoryCreated(Project + "/.claude");
        Assert.Equal(DecisionSource.Guard, project.Match(Write(Project + "/.claude/settings.json", Operation.Create))?.Source);
        project.Guard.DirectoryCreated(Project + "/clone");
        Assert.Equal(Verdict.Allow, project.Match(Write(Project + "/clone/.claude/settings.json", Operation.Create))?.Verdict);
    }

    [Fact]
    public void Reading_a_home_place_is_ordinary_node_from_nvm_gets_its_folder_offered()
    {
        using var policy = Build(null);
        var node = new Request(AccessKind.Read, Operation.Read, "/home/u/.nvm/versions/node/v20.1.0/bin/node", null, Write("/x").Subject);
        Assert.False(policy.IsSensitive(node.Resource, AccessKind.Read));
        Assert.NotNull(policy.SuggestFolder(node));
        Assert.True(policy.IsSensitive(node.Resource, AccessKind.Write));
    }

    [Fact]
    public async Task A_folder_answer_on_a_home_place_names_it_and_lifts_the_guard_there_only()
    {
        // pip install --user: hundreds of files below one place; one answer, and it says which place.
        var prompter = new FakePrompter(PromptAnswer.AllowFolder);
        using var policy = Build(prompter);
        string package = "/home/u/.local/lib/python3.11/site-packages/requests/__init__.py";
        Assert.True((await policy.DecideAsync(Write(package, Operation.Create), CancellationToken.None)).Allowed);
        Assert.Equal("/home/u/.local/lib/python3.11", prompter.Asked.Single().SuggestedFolder);
        Assert.Equal(Verdict.Allow, policy.Match(Write("/home/u/.local/lib/python3.11/site-packages/x.pth", Operation.Create))?.Verdict);
        Assert.Null(policy.Match(Write("/home/u/.local/bin/requests", Operation.Create)));
        Assert.Null(policy.SuggestFolder(Write("/home/u/.gitconfig")));
        Assert.Null(policy.SuggestFolder(Write("/home/u/.ssh/authorized_keys")));
    }

    [Fact]
    public async Task The_question_about_a_home_place_says_what_runs_it()
    {
        var prompter = new FakePrompter(PromptAnswer.DenyOnce);
        using var policy = Build(prompter, Allow("/home/u"));
        await policy.DecideAsync(Write("/home/u/.gitconfig", Operation.Rename), CancellationToken.None);
        await policy.DecideAsync(Write(Project + "/.git/hooks/pre-commit", Operation.Create), CancellationToken.None);
        Assert.Equal(2, prompter.Asked.Count);
        Assert.StartsWith("git settings", prompter.Asked[0].Guarded, StringComparison.Ordinal);
        Assert.Equal("git hooks", prompter.Asked[1].Guarded);
    }

    [Fact]
    public void A_deny_rule_still_denies_and_without_any_rule_the_usual_default_applies()
    {
        using var denied = Build(null, Allow(Project), new Rule(AccessKind.Write, Verdict.Deny, new PathDescriptor(Project + "/.git"), DecisionSource.Flag, "--deny-write"));
        Assert.Equal(DecisionSource.Flag, denied.Match(Write(Project + "/.git/config"))?.Source);
        using var none = Build(null);
        Assert.Null(none.Match(Write(Project + "/.git/config")));
    }

    [Fact]
    public async Task With_a_person_to_ask_a_guarded_write_is_asked_and_always_names_the_file()
    {
        var prompter = new FakePrompter(PromptAnswer.AllowAlways);
        using var policy = Build(prompter, Allow(Project));
        Assert.Null(policy.Match(Write(Project + "/.vscode/tasks.json")));
        var d = await policy.DecideAsync(Write(Project + "/.vscode/tasks.json"), CancellationToken.None);
        Assert.True(d.Allowed);
        Assert.Single(prompter.Asked);
        Assert.Null(prompter.Asked[0].SuggestedFolder);
        Assert.Equal(Verdict.Allow, policy.Match(Write(Project + "/.vscode/tasks.json"))?.Verdict);
        Assert.Null(policy.Match(Write(Project + "/.vscode/launch.json")));

        // "all writes" does not cover the guard's names either.
        var kind = new FakePrompter(PromptAnswer.AllowKind);
        using var second = Build(kind, Allow(Project));
        Assert.True((await second.DecideAsync(Write(Project + "/.envrc"), CancellationToken.None)).Allowed);
        Assert.Null(second.Match(Write(Project + "/.git/config")));
    }

    [Fact]
    public void A_folder_the_run_created_is_its_own_a_cloned_repository_works()
    {
        using var policy = Build(null, Allow(Project));
        // git clone URL clone: mkdir clone, mkdir clone/.git, then config, hooks, the work tree's .vscode.
        Assert.Equal(Verdict.Allow, policy.Match(Write(Project + "/clone", Operation.Create, directory: true))?.Verdict);
        policy.Guard.DirectoryCreated(Project + "/clone");
        foreach (var p in new[] { "/clone/.git", "/clone/.git/config", "/clone/.git/hooks/pre-commit.sample", "/clone/.vscode/settings.json", "/clone/.gitattributes" })
        {
            Assert.Equal(Verdict.Allow, policy.Match(Write(Project + p, Operation.Create))?.Verdict);
        }

        // The project itself is not the run's own: its .vscode and a .git file (a gitdir: link) stay guarded.
        Assert.Equal(DecisionSource.Guard, policy.Match(Write(Project + "/.vscode/tasks.json", Operation.Create))?.Source);
        Assert.Equal(DecisionSource.Guard, policy.Match(Write(Project + "/.git", Operation.Create))?.Source);
    }

    [Fact]
    public void Git_init_in_an_existing_folder_makes_a_repository_whose_internals_are_the_runs_own()
    {
        using var policy = Build(null, Allow(Project));
        var mkdir = Write(Project + "/repo/.git", Operation.Create, directory: true);
        Assert.Equal(Verdict.Allow, policy.Match(mkdir)?.Verdict);
        Assert.Equal(DecisionSource.Guard, policy.Match(Write(Project + "/repo/.git/config"))?.Source);
        policy.Guard.DirectoryCreated(Project + "/repo/.git");
        Assert.Equal(Verdict.Allow, policy.Match(Write(Project + "/repo/.git/config"))?.Verdict);
        Assert.Equal(Verdict.Allow, policy.Match(Write(Project + "/repo/.git/hooks/pre-commit"))?.Verdict);
        // ... but not the work tree around it, which the user had.
        Assert.Equal(DecisionSource.Guard, policy.Match(Write(Project + "/repo/.vscode/tasks.json"))?.Source);
        // A decision made by mkdir is not remembered for a file of the same name.
        Assert.Equal(DecisionSource.Guard, policy.Match(Write(Project + "/repo/.git", Operation.Create))?.Source);
    }

    [Fact]
    public void A_created_folder_loses_its_standing_when_a_folder_is_renamed_onto_it()
    {
        using var policy = Build(null, Allow(Project));
        policy.Guard.DirectoryCreated(Project + "/x");
        Assert.Equal(Verdict.Allow, policy.Match(Write(Project + "/x/.git/config"))?.Verdict);
        // rename(project/src, project/x) replaces the empty x with the user's tree, hooks and all.
        policy.Guard.Moved(Project + "/src");
        policy.Guard.Moved(Project + "/x");
        Assert.Equal(DecisionSource.Guard, policy.Match(Write(Project + "/x/.git/config"))?.Source);
    }

    [Fact]
    public void The_runs_private_temp_dir_is_not_guarded()
    {
        using var policy = Build(null, Allow(Project));
        Assert.Equal(Verdict.Allow, policy.Match(Write("/tmp/cordon-run/repo/.git/config"))?.Verdict);
    }

    [Fact]
    public void A_folder_the_user_allowed_is_not_granted_whole_in_the_kernel_for_writes()
    {
        using var policy = Build(null, Allow(Project));
        Assert.Null(policy.FolderVerdict(AccessKind.Write, Project));
        Assert.Null(policy.FolderVerdict(AccessKind.Write, Project + "/src"));
        Assert.Null(policy.FolderVerdict(AccessKind.Write, Project + "/.git/hooks"));
        Assert.Equal(Verdict.Allow, policy.FolderVerdict(AccessKind.Write, Project + "/node_modules"));
        Assert.Equal(Verdict.Allow, policy.FolderVerdict(AccessKind.Write, "/tmp/cordon-run"));
        Assert.Null(policy.FolderVerdict(AccessKind.Write, Project + "/.vscode/node_modules"));
        // Reads are not guarded.
        using var reads = Build(null, new Rule(AccessKind.Read, Verdict.Allow, new PathDescriptor(Project), DecisionSource.Flag, "r"));
        Assert.Equal(Verdict.Allow, reads.FolderVerdict(AccessKind.Read, Project));
    }
}

/// <summary>As root, the base rules grant only what the user could read without cordon (issue 19, point 9).</summary>
public class RootReadTests
{
    private static Request Read(string path, bool unreadable) =>
        new(AccessKind.Read, Operation.Read, path, null, new Subject(new ProcessSummary(42, "/usr/bin/cat", ["cat"]), 42, [], _ => false)) { UnreadableByUser = unreadable };

    private static Policy Build(IPrompter? prompter, params Rule[] user) =>
        new(user, BaseRules.For(new BaseContext("/root", "/tmp/cordon-run", "/usr/bin/cat")), prompter, "/root");

    [Fact]
    public void A_system_file_the_user_could_not_read_needs_a_rule_naming_it()
    {
        using var policy = Build(null);
        Assert.Equal(Verdict.Allow, policy.Match(Read("/etc/postgresql/15/main/pg_hba.conf", unreadable: false))?.Verdict);
        var d = policy.Match(Read("/etc/postgresql/15/main/pg_hba.conf", unreadable: true));
        Assert.Equal(Verdict.Deny, d?.Verdict);
        Assert.Equal(DecisionSource.Base, d?.Source);
        // The readable answer was cached first: the unreadable request must not take it.
        Assert.Equal(Verdict.Allow, policy.Match(Read("/etc/postgresql/15/main/pg_hba.conf", unreadable: false))?.Verdict);

        using var named = Build(null, new Rule(AccessKind.Read, Verdict.Allow, new PathDescriptor("/etc/postgresql"), DecisionSource.Flag, "--allow-read=/etc/postgresql"));
        Assert.Equal(Verdict.Allow, named.Match(Read("/etc/postgresql/15/main/pg_hba.conf", unreadable: true))?.Verdict);
        using var asked = Build(new FakePrompter(PromptAnswer.AllowOnce));
        Assert.Null(asked.Match(Read("/etc/postgresql/15/main/pg_hba.conf", unreadable: true)));

        // The run's own TMPDIR and the terminal are not system files: root's own files there stay the program's.
        Assert.Equal(Verdict.Allow, policy.Match(Read("/tmp/cordon-run/cc1.o", unreadable: true))?.Verdict);
        Assert.Equal(Verdict.Allow, policy.Match(Read("/dev/pts/3", unreadable: true))?.Verdict);
    }

    [Theory]
    [InlineData("/etc/wireguard/wg0.conf")]
    [InlineData("/etc/NetworkManager/system-connections/home.nmconnection")]
    [InlineData("/etc/kubernetes/admin.conf")]
    [InlineData("/etc/kubernetes/pki/ca.key")]
    [InlineData("/etc/mysql/debian.cnf")]
    [InlineData("/root/.bash_history")]
    public void Credentials_in_the_system_are_denied_even_when_world_readable(string path)
    {
        using var policy = Build(null);
        Assert.Equal(Verdict.Deny, policy.Match(Read(path, unreadable: false))?.Verdict);
    }

    [Fact]
    public void The_permission_bits_of_the_class_that_applies_decide()
    {
        var user = InvokingUser.Of(1000, [1000, 27]);
        Assert.True(user.CanRead(0x1A0, 1000, 0)); // 0640 mine
        Assert.False(user.CanRead(0x1A0, 0, 0)); // 0640 root:root
        Assert.True(user.CanRead(0x1A0, 0, 27)); // 0640 root:sudo, a group of mine
        Assert.False(user.CanRead(0x1A0, 0, 115)); // 0640 root:postgres
        Assert.True(user.CanRead(0x1A4, 0, 0)); // 0644
        Assert.False(user.CanRead(0x24, 1000, 1000)); // 0044: the owner class applies, and it has no read bit
        Assert.False(InvokingUser.Others.CanRead(0x1A0, 0, 0));
        Assert.True(InvokingUser.Others.CanRead(0x1A4, 0, 0));
    }
}

/// <summary>Unix sockets lead to daemons that act outside the sandbox: only a rule naming the socket reaches one.</summary>
public class DaemonSocketTests
{
    private static Request Connect(string path, Operation op = Operation.Connect) =>
        new(AccessKind.Net, op, "unix:" + path, null, Subject.Unknown(1), new NetTarget(null, 0, [], path, "unix"));

    [Theory]
    [InlineData("/run/docker.sock")]
    [InlineData("/run/user/1000/bus")]
    [InlineData("/tmp/ssh-XXXX/agent.42")]
    [InlineData("@/tmp/dbus-abstract")]
    public void Everything_allowed_does_not_reach_a_daemons_socket_a_unix_rule_does(string path)
    {
        var any = new Rule(AccessKind.Net, Verdict.Allow, new AnyDescriptor(), DecisionSource.Flag, "--allow-net");
        using var policy = new Policy([any], [], null);
        Assert.Null(policy.Match(Connect(path)));
        Assert.Null(policy.Match(Connect(path, Operation.Send)));
        Assert.Equal(Verdict.Allow, policy.Match(Connect(path, Operation.Bind))?.Verdict);
        using var named = new Policy([any, .. FlagRules.Parse(AccessKind.Net, Verdict.Allow, "unix:" + path, new FakeResolver())], [], null);
        Assert.Equal(Verdict.Allow, named.Match(Connect(path))?.Verdict);
    }
}

public class NewRepositoryTests
{
    [Fact]
    public void A_repository_made_in_a_folder_the_user_had_is_reported_one_in_a_new_folder_is_not()
    {
        var guard = new OutsideCodeGuard();
        guard.DirectoryCreated("/home/u/project/sub/.git");
        guard.DirectoryCreated("/home/u/project/clone");
        guard.DirectoryCreated("/home/u/project/clone/.git");
        Assert.Equal(["/home/u/project/sub/.git"], guard.RepositoriesCreated);
    }
}
