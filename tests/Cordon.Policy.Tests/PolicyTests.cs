using System.Net;
using Cordon.Policy;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Xunit;

namespace Cordon.Policy.Tests;

internal sealed class FakeResolver : IPathResolver
{
    public string Home => "/home/u";

    public string WorkingDirectory => "/home/u/project";

    // One symlink in the fake world: /home/u/link -> /home/u/real.
    public string Canonicalize(string absolutePath) =>
        absolutePath.StartsWith("/home/u/link", StringComparison.Ordinal) ? "/home/u/real" + absolutePath["/home/u/link".Length..] : absolutePath;

    public string? FindProgram(string name) => name is "git" or "gh" ? "/usr/bin/" + name : null;
}

internal sealed class FakePrompter(params PromptAnswer[] answers) : IPrompter
{
    private int next;
    public readonly List<PromptQuestion> Asked = [];
    public TaskCompletionSource? Gate;

    public async Task<PromptAnswer> AskAsync(PromptQuestion question, CancellationToken cancellationToken)
    {
        lock (Asked)
        {
            Asked.Add(question);
        }

        if (Gate is not null)
        {
            await Gate.Task;
        }

        return answers[Math.Min(next++, answers.Length - 1)];
    }
}

internal sealed class ThrowingPrompter : IPrompter
{
    public Task<PromptAnswer> AskAsync(PromptQuestion question, CancellationToken cancellationToken) =>
        throw new IOException("terminal gone");
}

public class PolicyTests
{
    private static readonly FakeResolver Resolver = new();

    // The policy files its rules in an array indexed by kind, sized by the last kind.
    [Fact]
    public void Env_is_the_last_access_kind() => Assert.Equal((int)AccessKind.Env, Enum.GetValues<AccessKind>().Max(k => (int)k));

    private static Request Req(AccessKind kind, string resource, int pid = 42, Func<int, bool>? member = null) =>
        new(kind, kind switch { AccessKind.Write => Operation.Write, AccessKind.Run => Operation.Exec, _ => Operation.Read },
            resource, null, new Subject(new ProcessSummary(pid, "/usr/bin/x", ["x"]), pid, [], member ?? (_ => false)));

    private static Request NetReq(string ip, int port, params string[] names) =>
        new(AccessKind.Net, Operation.Connect, $"{ip}:{port}", null, Subject.Unknown(1),
            new NetTarget(IPAddress.Parse(ip), port, names, null, "inet"));

    private static Policy Build(IEnumerable<Rule> user, IPrompter? prompter = null) =>
        new(user, BaseRules.For(new BaseContext("/home/u", "/tmp/cordon-run", "/usr/bin/make")), prompter, "/home/u");

    private static IEnumerable<Rule> Flag(AccessKind kind, Verdict verdict, string? value) => FlagRules.Parse(kind, verdict, value, Resolver);

    private static Decision Decide(Policy p, Request r) => p.DecideAsync(r, CancellationToken.None).AsTask().Result;

    [Fact]
    public void Nothing_in_home_is_granted_by_the_base_rules()
    {
        var p = Build([]);
        Assert.False(Decide(p, Req(AccessKind.Read, "/home/u/.ssh/id_rsa")).Allowed);
        Assert.False(Decide(p, Req(AccessKind.Write, "/home/u/.bashrc")).Allowed);
        Assert.False(Decide(p, Req(AccessKind.Read, "/home/u")).Allowed);
        Assert.Equal(DecisionSource.Default, Decide(p, Req(AccessKind.Read, "/home/u/x")).Source);
    }

    [Fact]
    public void The_system_is_readable_but_its_secrets_are_not()
    {
        var p = Build([]);
        Assert.True(Decide(p, Req(AccessKind.Read, "/usr/lib/x86_64-linux-gnu/libc.so.6")).Allowed);
        Assert.True(Decide(p, Req(AccessKind.Read, "/etc/passwd")).Allowed);
        Assert.False(Decide(p, Req(AccessKind.Read, "/etc/shadow")).Allowed);
        Assert.False(Decide(p, Req(AccessKind.Read, "/etc/ssh/ssh_host_ed25519_key")).Allowed);
        Assert.True(Decide(p, Req(AccessKind.Read, "/etc/ssh/ssh_host_ed25519_key.pub")).Allowed);
        Assert.False(Decide(p, Req(AccessKind.Write, "/etc/passwd")).Allowed);
    }

    [Theory]
    [InlineData("/run/systemd/resolve/stub-resolv.conf")]
    [InlineData("/run/systemd/resolve/resolv.conf")]
    [InlineData("/run/NetworkManager/resolv.conf")]
    [InlineData("/run/resolvconf/resolv.conf")]
    [InlineData("/var/cache/man/index.db")]
    [InlineData("/var/cache/fontconfig/x-le64.cache-9")]
    public void Where_resolv_conf_leads_and_the_systems_caches_are_readable_as_system_files(string path)
    {
        var p = Build([]);
        Assert.True(Decide(p, Req(AccessKind.Read, path)).Allowed);
        Assert.False(Decide(p, Req(AccessKind.Write, path)).Allowed);
        // Only where the user could read them without cordon (as for /etc): root gets no more through these rules.
        var rules = BaseRules.For(new BaseContext("/home/u", "/tmp/cordon-run", "/usr/bin/make"));
        Assert.True(rules.Single(r => r.Kind == AccessKind.Read && r.Descriptor is PathDescriptor d && Descriptor.InTree(d.Path, path)).AsUser);
    }

    [Theory]
    [InlineData("/run/systemd/resolve/io.systemd.Resolve")]
    [InlineData("/run/user/1000/gnupg/S.gpg-agent")]
    [InlineData("/run/NetworkManager/system-connections/wifi.nmconnection")]
    [InlineData("/var/lib/dpkg/status")]
    [InlineData("/var/log/auth.log")]
    public void The_rest_of_run_and_var_is_not(string path)
    {
        Assert.False(Decide(Build([]), Req(AccessKind.Read, path)).Allowed);
    }

    [Fact]
    public void Proc_entries_are_readable_only_for_processes_of_the_sandbox()
    {
        var p = Build([]);
        Assert.True(Decide(p, Req(AccessKind.Read, "/proc/42/maps", member: pid => pid == 42)).Allowed);
        Assert.False(Decide(p, Req(AccessKind.Read, "/proc/1/environ", member: pid => pid == 42)).Allowed);
        Assert.True(Decide(p, Req(AccessKind.Read, "/proc/cpuinfo")).Allowed);
    }

    [Fact]
    public void A_sandbox_process_may_set_its_own_name_and_core_dump_filter_and_nothing_else_under_proc()
    {
        var p = Build([]);
        Func<int, bool> member = pid => pid == 42;
        Assert.True(Decide(p, Req(AccessKind.Write, "/proc/42/coredump_filter", member: member)).Allowed);
        Assert.True(Decide(p, Req(AccessKind.Write, "/proc/42/comm", member: member)).Allowed);
        Assert.True(Decide(p, Req(AccessKind.Write, "/proc/42/task/43/comm", member: member)).Allowed);
        Assert.True(Decide(p, Req(AccessKind.Read, "/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages")).Allowed);

        // Another process's settings, and every other /proc file of the sandbox's own.
        Assert.False(Decide(p, Req(AccessKind.Write, "/proc/1/coredump_filter", member: member)).Allowed);
        Assert.False(Decide(p, Req(AccessKind.Write, "/proc/1/comm", member: member)).Allowed);
        foreach (var other in new[] { "/proc/42/mem", "/proc/42/oom_score_adj", "/proc/42/attr/current", "/proc/42/task/43/mem",
            "/proc/42/task//comm", "/proc/42/task/comm", "/proc/42/task/x/comm", "/proc/42/task/43/comm/x", "/proc/42/comm/x", "/proc/42", "/proc/42/" })
        {
            Assert.False(Decide(p, Req(AccessKind.Write, other, member: member)).Allowed, other);
        }
    }

    [Fact]
    public void A_folder_on_the_way_to_an_allowed_one_may_be_made_but_nothing_else_there()
    {
        var p = Build(Flag(AccessKind.Write, Verdict.Allow, "/home/u/.m2/repository"));
        Request Mkdir(string path) => new(AccessKind.Write, Operation.Create, path, null, Subject.Unknown(1)) { MakesDirectory = true };
        Request Create(string path) => new(AccessKind.Write, Operation.Create, path, null, Subject.Unknown(1));

        Assert.True(p.Match(Mkdir("/home/u/.m2"))?.Allowed);
        Assert.Contains("a folder on the way to it", p.Match(Mkdir("/home/u/.m2"))!.Rule, StringComparison.Ordinal);
        Assert.Null(p.Match(Create("/home/u/.m2"))); // a file of that name is not a folder on the way
        Assert.Null(p.Match(Create("/home/u/.m2/settings.xml")));
        Assert.Null(p.Match(Mkdir("/home/u/.m2/other")));
        Assert.Null(p.Match(Mkdir("/home/u/.m")));
        Assert.True(p.Match(Mkdir("/home/u/.m2"))?.Allowed); // the file's answer was not cached for the folder

        // A deny there wins, and a guarded place is not made on the way (asked as before).
        var denied = Build([.. Flag(AccessKind.Write, Verdict.Allow, "/home/u/.m2/repository"), .. Flag(AccessKind.Write, Verdict.Deny, "/home/u/.m2")]);
        Assert.False(denied.Match(Mkdir("/home/u/.m2"))?.Allowed);
        var guarded = Build(Flag(AccessKind.Write, Verdict.Allow, "/home/u/.local/bin/tool"));
        Assert.Null(guarded.Match(Mkdir("/home/u/.local/bin")));
        Assert.True(guarded.Match(Mkdir("/home/u/.local"))?.Allowed);
    }

    [Fact]
    public void The_runs_temp_dir_and_the_named_program_are_granted()
    {
        var p = Build([]);
        Assert.True(Decide(p, Req(AccessKind.Write, "/tmp/cordon-run/cc123.s")).Allowed);
        Assert.False(Decide(p, Req(AccessKind.Write, "/tmp/other")).Allowed);
        Assert.True(Decide(p, Req(AccessKind.Run, "/usr/bin/make")).Allowed);
        Assert.False(Decide(p, Req(AccessKind.Run, "/home/u/project/evil")).Allowed);
    }

    [Fact]
    public void The_most_specific_rule_wins_in_both_directions()
    {
        var p = Build([.. Flag(AccessKind.Read, Verdict.Deny, "~"), .. Flag(AccessKind.Read, Verdict.Allow, "~/project")]);
        Assert.True(Decide(p, Req(AccessKind.Read, "/home/u/project/a.c")).Allowed);
        Assert.False(Decide(p, Req(AccessKind.Read, "/home/u/notes")).Allowed);

        var q = Build([.. Flag(AccessKind.Read, Verdict.Allow, "~"), .. Flag(AccessKind.Read, Verdict.Deny, "~/.ssh")]);
        Assert.False(Decide(q, Req(AccessKind.Read, "/home/u/.ssh/id_rsa")).Allowed);
        Assert.True(Decide(q, Req(AccessKind.Read, "/home/u/notes")).Allowed);
    }

    [Fact]
    public void At_equal_specificity_deny_wins()
    {
        var p = Build([.. Flag(AccessKind.Read, Verdict.Allow, "~/p"), .. Flag(AccessKind.Read, Verdict.Deny, "~/p")]);
        var d = Decide(p, Req(AccessKind.Read, "/home/u/p/x"));
        Assert.False(d.Allowed);
        Assert.Equal("--deny-read=~/p", d.Rule);
    }

    [Fact]
    public void User_rules_override_base_rules()
    {
        var p = Build(Flag(AccessKind.Read, Verdict.Deny, "/usr/share/secret-thing"));
        Assert.False(Decide(p, Req(AccessKind.Read, "/usr/share/secret-thing/x")).Allowed);
        Assert.True(Decide(p, Req(AccessKind.Read, "/usr/share/other")).Allowed);
    }

    [Fact]
    public void Read_does_not_imply_write_and_write_does_not_imply_read()
    {
        var p = Build(Flag(AccessKind.Read, Verdict.Allow, "~/p"));
        Assert.False(Decide(p, Req(AccessKind.Write, "/home/u/p/x")).Allowed);
        var q = Build(Flag(AccessKind.Write, Verdict.Allow, "~/p"));
        Assert.False(Decide(q, Req(AccessKind.Read, "/home/u/p/x")).Allowed);
    }

    [Fact]
    public void A_directory_covers_its_subtree_but_not_a_sibling_with_the_same_prefix()
    {
        var p = Build(Flag(AccessKind.Read, Verdict.Allow, "~/p"));
        Assert.True(Decide(p, Req(AccessKind.Read, "/home/u/p")).Allowed);
        Assert.True(Decide(p, Req(AccessKind.Read, "/home/u/p/a/b/c")).Allowed);
        Assert.False(Decide(p, Req(AccessKind.Read, "/home/u/p2/x")).Allowed);
    }

    [Fact]
    public void Flag_paths_are_expanded_made_absolute_and_canonical()
    {
        Assert.Equal("/home/u/project/src", ((PathDescriptor)Flag(AccessKind.Read, Verdict.Allow, "src").Single().Descriptor).Path);
        Assert.Equal("/home/u/x", ((PathDescriptor)Flag(AccessKind.Read, Verdict.Allow, "~/x").Single().Descriptor).Path);
        Assert.Equal("/home/u/real/a", ((PathDescriptor)Flag(AccessKind.Read, Verdict.Allow, "~/link/a").Single().Descriptor).Path);
        Assert.Equal("/home/u", ((PathDescriptor)Flag(AccessKind.Read, Verdict.Allow, "../").Single().Descriptor).Path);
        Assert.Equal(2, Flag(AccessKind.Read, Verdict.Allow, "a,b").Count());
    }

    [Theory]
    [InlineData(AccessKind.Net, "1.2.3.4:99999", "port out of range")]
    [InlineData(AccessKind.Net, "10.0.0.0/33", "CIDR")]
    [InlineData(AccessKind.Net, "bad host!", "not a host name")]
    [InlineData(AccessKind.Net, "unix:relative", "unix:/absolute")]
    [InlineData(AccessKind.Run, "no-such-tool", "no program")]
    [InlineData(AccessKind.Env, "BAD-NAME", "not an environment variable")]
    [InlineData(AccessKind.Read, "a,,b", "empty value")]
    [InlineData(AccessKind.Read, "~bob/x", "~user")]
    public void Bad_flag_values_are_one_line_errors_naming_the_flag(AccessKind kind, string value, string expected)
    {
        var e = Assert.Throws<PolicyException>(() => Flag(kind, Verdict.Allow, value).ToList());
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.StartsWith(FlagRules.FlagName(kind, Verdict.Allow) + ":", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Run_by_name_is_looked_up_on_path()
    {
        var p = Build(Flag(AccessKind.Run, Verdict.Deny, "gh"));
        Assert.False(Decide(p, Req(AccessKind.Run, "/usr/bin/gh")).Allowed);
        Assert.True(Decide(p, Req(AccessKind.Run, "/usr/bin/git")).Allowed); // base: system programs
    }

    [Fact]
    public void Net_rules_match_addresses_cidrs_ports_and_resolved_names()
    {
        var p = Build([
            .. Flag(AccessKind.Net, Verdict.Allow, "10.1.0.0/16"),
            .. Flag(AccessKind.Net, Verdict.Allow, "1.2.3.4:443"),
            .. Flag(AccessKind.Net, Verdict.Allow, "*.example.org"),
            .. Flag(AccessKind.Net, Verdict.Allow, "localhost:8080"),
            .. Flag(AccessKind.Net, Verdict.Allow, "[2001:db8::1]:53"),
        ]);
        Assert.True(Decide(p, NetReq("10.1.200.3", 22)).Allowed);
        Assert.False(Decide(p, NetReq("10.2.0.1", 22)).Allowed);
        Assert.True(Decide(p, NetReq("1.2.3.4", 443)).Allowed);
        Assert.False(Decide(p, NetReq("1.2.3.4", 80)).Allowed);
        Assert.True(Decide(p, NetReq("93.184.216.34", 443, "pkgs.example.org")).Allowed);
        Assert.False(Decide(p, NetReq("93.184.216.34", 443, "example.org")).Allowed); // *.x does not cover x itself
        Assert.False(Decide(p, NetReq("93.184.216.34", 443, "evil.example.org.attacker.net")).Allowed);
        Assert.True(Decide(p, NetReq("127.0.0.1", 8080)).Allowed);
        Assert.True(Decide(p, NetReq("::1", 8080)).Allowed);
        Assert.True(Decide(p, NetReq("2001:db8::1", 53)).Allowed);
        Assert.False(Decide(p, NetReq("127.0.0.1", 8081)).Allowed);
    }

    [Fact]
    public void A_name_grant_does_not_cover_an_address_reached_under_another_name()
    {
        var p = Build(Flag(AccessKind.Net, Verdict.Allow, "good.example"));
        Assert.True(Decide(p, NetReq("5.6.7.8", 443, "good.example")).Allowed);
        Assert.False(Decide(p, NetReq("5.6.7.8", 443)).Allowed);
        Assert.False(Decide(p, NetReq("5.6.7.8", 443, "other.example")).Allowed);
    }

    [Fact]
    public void Netlink_and_ephemeral_binds_are_base_but_listening_is_not()
    {
        var p = Build([]);
        var netlink = new Request(AccessKind.Net, Operation.Connect, "netlink", null, Subject.Unknown(1), new NetTarget(null, 0, [], null, "netlink"));
        Assert.True(Decide(p, netlink).Allowed);
        var bind0 = new Request(AccessKind.Net, Operation.Bind, "0.0.0.0:0", null, Subject.Unknown(1), new NetTarget(IPAddress.Any, 0, [], null, "inet"));
        Assert.True(Decide(p, bind0).Allowed);
        var bind80 = bind0 with { Resource = "0.0.0.0:8080", Net = new NetTarget(IPAddress.Any, 8080, [], null, "inet") };
        Assert.False(Decide(p, bind80).Allowed);
    }

    [Fact]
    public async Task A_prompt_answer_always_is_remembered_and_asked_once_for_concurrent_requests()
    {
        var prompter = new FakePrompter(PromptAnswer.AllowAlways) { Gate = new TaskCompletionSource() };
        var p = Build([], prompter);
        var remembered = new List<Rule>();
        p.RuleRemembered += remembered.Add;
        var a = p.DecideAsync(Req(AccessKind.Read, "/home/u/x"), CancellationToken.None).AsTask();
        var b = p.DecideAsync(Req(AccessKind.Read, "/home/u/x"), CancellationToken.None).AsTask();
        prompter.Gate.SetResult();
        var (da, db) = (await a, await b);
        Assert.True(da.Allowed);
        Assert.True(db.Allowed);
        Assert.Single(prompter.Asked);
        Assert.Single(remembered);
        Assert.Equal(DecisionSource.Prompt, db.Source);
    }

    [Fact]
    public void A_folder_answer_covers_later_requests_in_that_folder()
    {
        var prompter = new FakePrompter(PromptAnswer.AllowFolder);
        var p = Build([], prompter);
        Assert.True(Decide(p, Req(AccessKind.Read, "/home/u/project/node_modules/a/index.js")).Allowed);
        Assert.True(Decide(p, Req(AccessKind.Read, "/home/u/project/node_modules/a/package.json")).Allowed);
        Assert.Single(prompter.Asked);
        Assert.Equal("/home/u/project/node_modules/a", prompter.Asked[0].SuggestedFolder);
    }

    [Fact]
    public void A_deny_always_answer_sticks_and_a_once_answer_does_not()
    {
        var prompter = new FakePrompter(PromptAnswer.DenyAlways, PromptAnswer.AllowOnce, PromptAnswer.AllowOnce);
        var p = Build([], prompter);
        Assert.False(Decide(p, Req(AccessKind.Read, "/home/u/a")).Allowed);
        Assert.False(Decide(p, Req(AccessKind.Read, "/home/u/a")).Allowed);
        Assert.True(Decide(p, Req(AccessKind.Read, "/home/u/b")).Allowed);
        Assert.True(Decide(p, Req(AccessKind.Read, "/home/u/b", pid: 43)).Allowed); // (the same process at once: RepeatTests)
        Assert.Equal(3, prompter.Asked.Count); // a once, b twice
    }

    [Fact]
    public void A_failing_prompter_denies_with_source_error()
    {
        var p = Build([], new ThrowingPrompter());
        var d = Decide(p, Req(AccessKind.Read, "/home/u/a"));
        Assert.False(d.Allowed);
        Assert.Equal(DecisionSource.Error, d.Source);
    }

    [Fact]
    public void Without_a_prompter_unruled_requests_are_denied_by_default()
    {
        var d = Decide(Build([]), Req(AccessKind.Read, "/home/u/a"));
        Assert.Equal(DecisionSource.Default, d.Source);
        Assert.False(d.Allowed);
    }

    [Theory]
    [InlineData("/home/u/project/src/a.c", "/home/u/project/src")]
    [InlineData("/home/u/a.txt", null)] // never the home directory itself
    [InlineData("/etc/x", null)] // never a top-level folder whole
    [InlineData("/etc/apt/sources.list", "/etc/apt")]
    [InlineData("/x", null)] // never /
    [InlineData("/home/u/.ssh/config", null)]
    [InlineData("/home/u/.config/gh/hosts.yml", null)]
    [InlineData("/home/u/.aws/credentials", null)]
    public void The_suggested_folder_is_useful_and_never_sensitive(string resource, string? expected) =>
        Assert.Equal(expected, Build([]).SuggestFolder(Req(AccessKind.Read, resource)));

    [Fact]
    public void The_suggested_flag_names_the_exact_resource()
    {
        Assert.Equal("--allow-read=/home/u/.npmrc", Policy.SuggestFlag(Req(AccessKind.Read, "/home/u/.npmrc")));
        Assert.Equal("--allow-net=1.2.3.4:443", Policy.SuggestFlag(NetReq("1.2.3.4", 443)));
        Assert.Equal("--allow-net=[::1]:80", Policy.SuggestFlag(NetReq("::1", 80)));
        Assert.Equal("--allow-run=/usr/bin/gh", Policy.SuggestFlag(Req(AccessKind.Run, "/usr/bin/gh")));
    }

    [Fact]
    public void A_remembered_answer_invalidates_cached_decisions()
    {
        var prompter = new FakePrompter(PromptAnswer.AllowKind);
        var p = Build([], prompter);
        Assert.Null(p.Match(Req(AccessKind.Read, "/home/u/z"))); // cached as "no rule"
        Assert.True(Decide(p, Req(AccessKind.Read, "/home/u/y")).Allowed); // answered: all reads
        Assert.NotNull(p.Match(Req(AccessKind.Read, "/home/u/z")));
    }
}

public class EnvironmentFilterTests
{
    private static List<Rule> Rules(AccessKind kind, Verdict verdict, string? value) =>
        FlagRules.Parse(kind, verdict, value, new FakeResolver()).ToList();

    [Theory]
    [InlineData("GITHUB_TOKEN")]
    [InlineData("NPM_TOKEN")]
    [InlineData("AWS_SECRET_ACCESS_KEY")]
    [InlineData("AWS_ACCESS_KEY_ID")]
    [InlineData("OPENAI_API_KEY")]
    [InlineData("DB_PASSWORD")]
    [InlineData("SSH_AUTH_SOCK")]
    [InlineData("DATABASE_URL")]
    [InlineData("NODE_AUTH_TOKEN")]
    [InlineData("AZURE_CLIENT_SECRET")]
    [InlineData("AWS_SESSION_TOKEN")]
    [InlineData("AZURE_CLIENT_ID")]
    [InlineData("SENTRY_DSN")]
    public void Secret_looking_variables_are_withheld(string name)
    {
        var r = EnvironmentFilter.Filter(new Dictionary<string, string> { [name] = "s3cr3t", ["PATH"] = "/usr/bin" }, []);
        Assert.Equal([name], r.Withheld);
        Assert.True(r.Passed.ContainsKey("PATH"));
    }

    [Theory]
    [InlineData("PATH")]
    [InlineData("HOME")]
    [InlineData("KEYBOARD_LAYOUT")]
    [InlineData("PWD")]
    [InlineData("LANG")]
    [InlineData("TERM")]
    [InlineData("MONKEY")]
    [InlineData("AWS_REGION")]
    [InlineData("AWS_PROFILE")]
    [InlineData("AWS_CA_BUNDLE")]
    public void Ordinary_variables_pass(string name) => Assert.False(EnvironmentFilter.LooksSecret(name));

    [Fact]
    public void An_allow_rule_passes_a_secret_and_a_deny_rule_withholds_anything()
    {
        var env = new Dictionary<string, string> { ["GITHUB_TOKEN"] = "t", ["EDITOR"] = "vi" };
        var allow = EnvironmentFilter.Filter(env, Rules(AccessKind.Env, Verdict.Allow, "GITHUB_TOKEN"));
        Assert.Empty(allow.Withheld);
        var deny = EnvironmentFilter.Filter(env, Rules(AccessKind.Env, Verdict.Deny, "EDITOR"));
        Assert.Equal(["EDITOR", "GITHUB_TOKEN"], deny.Withheld);
        var all = EnvironmentFilter.Filter(env, Rules(AccessKind.Env, Verdict.Allow, null));
        Assert.Empty(all.Withheld);
        var prefix = EnvironmentFilter.Filter(new Dictionary<string, string> { ["AWS_PROFILE"] = "x", ["AWS_SECRET_ACCESS_KEY"] = "y" }, Rules(AccessKind.Env, Verdict.Allow, "AWS_*"));
        Assert.Empty(prefix.Withheld);
    }
}

public class GlobProperties
{
    private static Gen<string> Segment => Gen.Elements("a", "b", "src", "x.c", "node_modules", ".ssh");

    [Property(MaxTest = 300)]
    public Property Double_star_covers_every_descendant() =>
        Prop.ForAll(Gen.ListOf(Segment).Where(l => l.Count > 0).ToArbitrary(), segs =>
            new PathDescriptor("/home/u/**").Covers("/home/u/" + string.Join('/', segs)));

    [Property(MaxTest = 300)]
    public Property Single_star_matches_exactly_one_component_or_its_subtree() =>
        Prop.ForAll(Gen.ListOf(Segment).Where(l => l.Count > 0).ToArbitrary(), segs =>
        {
            var path = "/p/" + string.Join('/', segs);
            // "/p/*" matches /p/X and, as a directory, everything below /p/X: so every /p/... path of depth >= 1.
            return new PathDescriptor("/p/*").Covers(path) && !new PathDescriptor("/q/*").Covers(path);
        });

    [Property(MaxTest = 300)]
    public Property A_literal_path_covers_exactly_itself_and_below(string name)
    {
        var safe = new string((name ?? "").Where(char.IsAsciiLetterOrDigit).ToArray());
        var d = new PathDescriptor("/base/" + (safe.Length == 0 ? "n" : safe));
        return (d.Covers(d.Path) && d.Covers(d.Path + "/child") && !d.Covers(d.Path + "x") && !d.Covers("/base")).ToProperty();
    }

    [Theory]
    [InlineData("/home/*/.ssh", "/home/u/.ssh/id_rsa", true)]
    [InlineData("/home/*/.ssh", "/home/u/x/.ssh", false)]
    [InlineData("/a/**/b", "/a/b", true)]
    [InlineData("/a/**/b", "/a/x/y/b/c", true)]
    [InlineData("/a/*.c", "/a/main.c", true)]
    [InlineData("/a/*.c", "/a/main.h", false)]
    [InlineData("/a/?.c", "/a/m.c", true)]
    [InlineData("/a/?.c", "/a/mm.c", false)]
    public void Glob_cases(string pattern, string path, bool expected) =>
        Assert.Equal(expected, new PathDescriptor(pattern).Covers(path));
}

/// <summary>Rules added while other threads decide: no decision made from the rules before is kept afterwards.</summary>
public class ConcurrentRuleTests
{
    [Fact]
    public async Task A_deny_added_while_another_thread_matches_is_never_undone_by_a_stale_cached_answer()
    {
        var resolver = new FakeResolver();
        var request = new Request(AccessKind.Read, Operation.Read, "/data/project/a.txt", null, Subject.Unknown(1));
        var deny = FlagRules.Parse(AccessKind.Read, Verdict.Deny, "/data/project/a.txt", resolver);
        int stale = 0;
        for (int i = 0; i < 3000 && stale == 0; i++)
        {
            using var policy = new Policy(FlagRules.Parse(AccessKind.Read, Verdict.Allow, "/data/project", resolver), [], null);
            using var start = new Barrier(2);
            var matcher = Task.Run(() =>
            {
                start.SignalAndWait();
                for (int j = 0; j < 20; j++)
                {
                    policy.Match(request);
                }
            });
            start.SignalAndWait();
            policy.Apply(deny); // "deny always" answered on another thread
            await matcher;
            if (policy.Match(request)?.Allowed != false)
            {
                stale++;
            }
        }

        Assert.Equal(0, stale);
    }
}
