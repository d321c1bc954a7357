using System.Text.Json;
using Xunit;

namespace Cordon.Kernel.Tests;

/// <summary>
/// Issue 18.3: answers saved for the project, used by every program run in it; the environment question's
/// "always"; built-in sets applied for the tools a run starts.
/// </summary>
public sealed class ProjectProfileTests : IDisposable
{
    private readonly Sandboxed s = new();

    public void Dispose() => s.Dispose();

    private string Projects => Path.Combine(s.Home, ".config", "cordon", "projects");

    private string Notes()
    {
        var path = Path.Combine(s.Home, "notes.txt");
        File.WriteAllText(path, "notes-content\n");
        return path;
    }

    /// <summary>Runs cordon without a terminal from <paramref name="directory"/> (the tests' helper runs in the work directory).</summary>
    private RunResult CordonIn(string directory, string args) =>
        s.Bare("sh", "-c", $"cd '{directory}' && XDG_CONFIG_HOME='{s.Home}/.config' {Sandboxed.CordonShell} {args} </dev/null");

    [Fact]
    public void A_second_run_in_the_project_asks_nothing_answered_always_even_when_another_program_runs()
    {
        Notes();
        string token = "DEPLOY_TOKEN=" + s.Marker;
        using (var t = new Tmux(s, $"{token} " + Tmux.Cordon("run -- sh -c 'cat ~/notes.txt; echo \"token=${DEPLOY_TOKEN:-unset}\"'")))
        {
            var screen = t.WaitFor("cordon: environment");
            Assert.Contains("d always withhold", screen, StringComparison.Ordinal);
            t.Keys("d");
            t.WaitFor("wants to read");
            t.Keys("a");
            Assert.Equal(0, t.ExitCode());
            var first = t.History();
            Assert.Contains("notes-content", first, StringComparison.Ordinal);
            Assert.Contains("token=unset", first, StringComparison.Ordinal);
            Assert.DoesNotContain(s.Marker, first, StringComparison.Ordinal);
        }

        var saved = File.ReadAllText(Assert.Single(Directory.GetFiles(Projects, "*.yaml")));
        Assert.Contains("\"~/notes.txt\"", saved, StringComparison.Ordinal);
        Assert.Contains("\"DEPLOY_TOKEN\"", saved, StringComparison.Ordinal);
        Assert.Contains("# project: " + s.Work, saved, StringComparison.Ordinal);

        // Another program (awk, not sh) in the same project: no question at all, and the token stays out.
        const string awk = "awk 'BEGIN { print \"token=\" (ENVIRON[\"DEPLOY_TOKEN\"] == \"\" ? \"unset\" : ENVIRON[\"DEPLOY_TOKEN\"]) } { print }' ~/notes.txt; echo awk-done";
        using (var t = new Tmux(s, $"{token} " + Tmux.Cordon($"run -- sh -c '{awk.Replace("'", "'\\''")}'")))
        {
            Assert.Equal(0, t.ExitCode());
            t.WaitFor("awk-done");
            var second = t.History();
            Assert.DoesNotContain("cordon: environment", second, StringComparison.Ordinal);
            Assert.DoesNotContain("wants to", second, StringComparison.Ordinal);
            Assert.Contains("notes-content", second, StringComparison.Ordinal);
            Assert.Contains("token=unset", second, StringComparison.Ordinal);
            Assert.DoesNotContain(s.Marker, second, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Always_pass_at_the_environment_question_passes_exactly_those_variables_from_then_on()
    {
        using (var t = new Tmux(s, "NPM_TOKEN=tok-123 " + Tmux.Cordon("run -- sh -c 'echo token=$NPM_TOKEN'")))
        {
            t.WaitFor("cordon: environment");
            t.Keys("a");
            Assert.Equal(0, t.ExitCode());
            Assert.Contains("token=tok-123", t.History(), StringComparison.Ordinal);
        }

        // The answer named NPM_TOKEN: another secret-looking variable is still withheld (and said so without a terminal).
        var r = s.Cordon(["run", "--no-prompt", "--", "sh", "-c", "echo token=$NPM_TOKEN other=$GH_PAT"], new Dictionary<string, string> { ["NPM_TOKEN"] = "tok-123", ["GH_PAT"] = s.Marker });
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("token=tok-123 other=\n", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("withheld environment variables that look secret: GH_PAT", r.Stderr, StringComparison.Ordinal);
        s.AssertNoSecret(r);
    }

    [Fact]
    public void The_project_is_found_from_a_subfolder_and_answers_do_not_leak_into_other_projects()
    {
        var notes = Notes();
        Assert.Equal(0, s.Bare("git", "init", "-q", s.Work).ExitCode);
        var sub = Path.Combine(s.Work, "src", "lib");
        Directory.CreateDirectory(sub);
        var add = s.Cordon("profile", "add", ".", "read", "allow", "~/notes.txt");
        Assert.True(add.ExitCode == 0, add.ToString());

        var inSub = CordonIn(sub, $"run --no-prompt -- cat {notes}");
        Assert.True(inSub.ExitCode == 0, inSub.ToString());
        Assert.Equal("notes-content\n", inSub.Stdout);

        var show = CordonIn(sub, "profile show");
        Assert.True(show.ExitCode == 0, show.ToString());
        Assert.Contains($"project: {s.Work} (it holds .git)", show.Stdout, StringComparison.Ordinal);
        Assert.Contains("~/notes.txt", show.Stdout, StringComparison.Ordinal);
        Assert.Contains("git     when git, git-* runs: read allow ~/.gitconfig", show.Stdout, StringComparison.Ordinal);

        var elsewhere = Path.Combine(s.Root, "other-project");
        Directory.CreateDirectory(elsewhere);
        var other = CordonIn(elsewhere, $"run --no-prompt -- cat {notes}");
        Assert.NotEqual(0, other.ExitCode);
        Assert.DoesNotContain("notes-content", other.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void A_profile_named_after_the_program_still_applies_beside_the_projects()
    {
        var notes = Notes();
        var profiles = Path.Combine(s.Home, ".config", "cordon", "profiles");
        Directory.CreateDirectory(profiles);
        File.WriteAllText(Path.Combine(profiles, "cat.yaml"), $"read: {{ allow: [\"{notes}\"] }}\n");
        var r = s.Cordon("run", "--no-prompt", "--", "cat", notes);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("notes-content\n", r.Stdout);
    }

    [Fact]
    public void A_cloned_repositorys_own_profile_grants_nothing_from_any_folder_until_trusted()
    {
        var notes = Notes();
        var upstream = Path.Combine(s.Root, "upstream");
        Directory.CreateDirectory(upstream);
        File.WriteAllText(Path.Combine(upstream, ".cordon.yaml"), "read:\n  allow: [\"~\"]\n");
        foreach (var args in new[] { "init -q", "add .cordon.yaml", "-c user.email=t@t -c user.name=t commit -qm init" })
        {
            var g = s.Bare("sh", "-c", $"cd {upstream} && git {args}");
            Assert.True(g.ExitCode == 0, g.ToString());
        }

        var clone = Path.Combine(s.Work, "clone");
        Assert.Equal(0, s.Bare("git", "clone", "-q", upstream, clone).ExitCode);
        var sub = Path.Combine(clone, "deep");
        Directory.CreateDirectory(sub);

        var r = CordonIn(sub, $"run --no-prompt -- sh -c 'cat {s.Secret}; cat {notes}'");
        Assert.Contains($"ignoring {clone}/.cordon.yaml", r.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("notes-content", r.Stdout, StringComparison.Ordinal);
        s.AssertNoSecret(r);

        Assert.Equal(0, CordonIn(sub, $"profile trust {clone}/.cordon.yaml").ExitCode);
        r = CordonIn(sub, $"run --no-prompt -- cat {notes}");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("notes-content\n", r.Stdout);
    }

    [Fact]
    public void A_built_in_set_applies_once_its_tool_runs_says_so_in_the_log_and_can_be_turned_off()
    {
        var gitconfig = Path.Combine(s.Home, ".gitconfig");
        File.WriteAllText(gitconfig, "[user]\n\tname = Builtin Tester\n");

        // Not before git runs: a shell alone gets no git configuration.
        var before = s.Cordon("run", "--no-prompt", "--", "sh", "-c", "cat ~/.gitconfig");
        Assert.NotEqual(0, before.ExitCode);
        Assert.DoesNotContain("Builtin Tester", before.Stdout, StringComparison.Ordinal);

        // git started inside the shell (an agent's shell): the git set applies to it.
        var log = Path.Combine(s.Root, "audit.jsonl");
        var r = s.Cordon("run", "--no-prompt", "--log", log, "--", "sh", "-c", "git config --global user.name");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("Builtin Tester\n", r.Stdout);
        var record = File.ReadAllLines(log).Select(l => JsonDocument.Parse(l).RootElement)
            .First(e => e.GetProperty("value").GetString() == gitconfig);
        Assert.Equal("builtin", record.GetProperty("source").GetString());
        Assert.Equal("built-in git (git ran): read allow ~/.gitconfig", record.GetProperty("rule").GetString());
        var why = s.Cordon("log", log, "--why", "~/.gitconfig");
        Assert.Contains("built-in git (git ran)", why.Stdout, StringComparison.Ordinal);

        var off = s.Cordon("run", "--no-prompt", "--no-builtins", "--", "git", "config", "--global", "user.name");
        Assert.NotEqual(0, off.ExitCode);
        Assert.DoesNotContain("Builtin Tester", off.Stdout, StringComparison.Ordinal);
        Assert.Contains("denied read of " + gitconfig, off.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void A_built_in_set_never_opens_a_credentials_place()
    {
        // npm's set grants ~/.npm, never ~/.npmrc (its tokens) or the ssh key.
        File.WriteAllText(Path.Combine(s.Home, ".npmrc"), "//registry.npmjs.org/:_authToken=" + s.Marker + "\n");
        Directory.CreateDirectory(Path.Combine(s.Home, ".npm"));
        File.WriteAllText(Path.Combine(s.Home, ".npm", "cached"), "cache-content\n");
        const string script = "const fs=require('fs');for (const f of ['.npm/cached','.npmrc','.ssh/id_rsa']) { try { console.log(fs.readFileSync(process.env.HOME+'/'+f,'utf8').trim()) } catch (e) { console.log(f+': '+e.code) } }";
        var r = s.Cordon("run", "--no-prompt", "--", "node", "-e", script);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("cache-content", r.Stdout, StringComparison.Ordinal);
        Assert.Contains(".npmrc: EACCES", r.Stdout, StringComparison.Ordinal);
        Assert.Contains(".ssh/id_rsa: EACCES", r.Stdout, StringComparison.Ordinal);
        s.AssertNoSecret(r);
    }
}
