using Cordon.Policy;
using Xunit;

namespace Cordon.Policy.Tests;

/// <summary>
/// The view engine's plan of binds (ViewPlan): a tree is bound only where the rules allow every path below it, a
/// tree with a deny inside is bound around it, and what is not bound is left to the mirror (which decides).
/// A bind of something a rule denies would let the kernel serve it without asking: each test names such a case.
/// </summary>
public class ViewPlanTests
{
    private sealed class FakeTree(params string[] entries) : IHostTree
    {
        // "/a/" is a directory, "/a" a file, "/a@" a symbolic link.
        private readonly Dictionary<string, HostEntry> kinds = entries.ToDictionary(
            e => e.TrimEnd('/', '@') is { Length: > 0 } p ? p : "/",
            e => e.EndsWith('/') ? HostEntry.Directory : e.EndsWith('@') ? HostEntry.Other : HostEntry.File);

        public HostEntry Kind(string path) => path == "/" ? HostEntry.Directory : kinds.GetValueOrDefault(path, HostEntry.Missing);

        public IEnumerable<string> Children(string directory) =>
            kinds.Keys.Where(k => k != "/" && k != directory && Path.GetDirectoryName(k) == directory).Select(k => Path.GetFileName(k));
    }

    private static readonly FakeTree Host = new(
        "/usr/", "/usr/bin/", "/usr/bin/sh", "/lib@", "/etc/", "/etc/passwd", "/etc/shadow", "/etc/ssh/", "/etc/ssh/ssh_config",
        "/etc/ssh/ssh_host_rsa_key", "/home/", "/home/u/", "/home/u/.ssh/", "/home/u/.ssh/id_rsa", "/home/u/docs/", "/home/u/project/",
        "/home/u/other/", "/tmp/", "/tmp/cordon-run/", "/proc/", "/dev/", "/dev/null", "/opt/", "/opt/x/");

    private static Policy Build(params Rule[] user) =>
        new(user, BaseRules.For(new BaseContext("/home/u", "/tmp/cordon-run", "/usr/bin/sh")), null, "/home/u");

    private static Rule Allow(string path) => new(AccessKind.Read, Verdict.Allow, new PathDescriptor(path), DecisionSource.Flag, path);

    private static Rule Deny(string path) => new(AccessKind.Read, Verdict.Deny, new PathDescriptor(path), DecisionSource.Flag, path);

    private static List<string> Binds(Policy p, bool asRoot = false) => ViewPlan.Binds(p, Host, asRoot).Select(b => b.Path).ToList();

    [Fact]
    public void System_trees_the_project_and_the_runs_tmpdir_are_bound_and_secrets_are_not()
    {
        var binds = Binds(Build(Allow("/home/u/project")));
        Assert.Contains("/usr", binds);
        Assert.Contains("/home/u/project", binds);
        Assert.Contains("/tmp/cordon-run", binds);
        Assert.Contains("/etc/passwd", binds);
        Assert.Contains("/etc/ssh/ssh_config", binds);
        Assert.DoesNotContain("/etc", binds); // it holds secrets: bound around them
        Assert.DoesNotContain("/etc/shadow", binds);
        Assert.DoesNotContain("/etc/ssh/ssh_host_rsa_key", binds);
        Assert.DoesNotContain("/etc/ssh", binds);
        Assert.DoesNotContain(binds, b => b.StartsWith("/home/u/", StringComparison.Ordinal) && b != "/home/u/project");
        Assert.DoesNotContain("/home/u", binds);
        Assert.DoesNotContain("/lib", binds); // a symbolic link: the mirror shows it, and where it leads is decided there
        Assert.DoesNotContain(binds, b => b.StartsWith("/proc", StringComparison.Ordinal) || b.StartsWith("/dev", StringComparison.Ordinal));
    }

    [Fact]
    public void Where_resolv_conf_leads_is_bound_alone_and_the_systems_caches_are_left_to_the_mirror()
    {
        var host = new FakeTree("/usr/", "/etc/", "/etc/resolv.conf@", "/run/", "/run/systemd/", "/run/systemd/resolve/",
            "/run/systemd/resolve/stub-resolv.conf", "/run/systemd/resolve/io.systemd.Resolve", "/run/user/", "/var/", "/var/cache/",
            "/var/cache/man/", "/var/cache/man/index.db", "/var/lib/", "/tmp/", "/tmp/cordon-run/");
        var binds = ViewPlan.Binds(Build(), host, asRoot: false).Select(b => b.Path).ToList();
        Assert.Contains("/run/systemd/resolve/stub-resolv.conf", binds);
        Assert.DoesNotContain(binds, b => b.StartsWith("/var", StringComparison.Ordinal) || b is "/run" or "/run/systemd" or "/run/systemd/resolve");
        Assert.DoesNotContain("/run/systemd/resolve/io.systemd.Resolve", binds);
    }

    [Fact]
    public void A_rule_added_during_the_run_is_announced_and_its_folder_joins_the_plan_but_a_listing_answer_does_not()
    {
        // The view engine's binder plans again on RulesChanged: a folder answer becomes a bind, and an answer that
        // grants a path alone (the home folder's listing, saved as only:PATH) never binds the tree below it.
        var p = Build(Allow("/home/u/project"));
        int changed = 0;
        p.RulesChanged += () => changed++;
        Assert.DoesNotContain("/home/u/docs", Binds(p));
        p.Add(Allow("/home/u/docs"));
        Assert.Equal(1, changed);
        Assert.Contains("/home/u/docs", Binds(p));
        p.Add(new Rule(AccessKind.Read, Verdict.Allow, new ExactPathDescriptor("/home/u"), DecisionSource.Prompt, "only:/home/u"));
        Assert.Equal(2, changed);
        Assert.DoesNotContain("/home/u", Binds(p));
        Assert.DoesNotContain(Binds(p), b => b.StartsWith("/home/u/.ssh", StringComparison.Ordinal));
    }

    [Fact]
    public void A_folder_allowed_with_a_deny_inside_is_bound_around_the_denied_part()
    {
        var binds = Binds(Build(Allow("/home/u"), Deny("/home/u/.ssh")));
        Assert.Contains("/home/u/docs", binds);
        Assert.Contains("/home/u/project", binds);
        Assert.DoesNotContain("/home/u", binds);
        Assert.DoesNotContain(binds, b => b.StartsWith("/home/u/.ssh", StringComparison.Ordinal));
    }

    [Fact]
    public void The_loaders_cache_is_bound_on_its_own_in_an_etc_left_to_the_mirror_unless_a_rule_keeps_it_out()
    {
        // An /etc with more names than the plan splits around its secrets is the mirror's; every exec's loader still
        // reads ld.so.cache, so that one file is bound by itself (where the rules allow reading it and it stays put).
        var names = Enumerable.Range(0, ViewPlan.MaxSplit + 1).Select(i => $"/etc/f{i}").ToList();
        var host = new FakeTree(["/usr/", "/etc/", "/etc/shadow", "/etc/ld.so.cache", .. names, "/home/", "/home/u/", "/tmp/", "/tmp/cordon-run/"]);
        List<string> BindsOn(Policy p, bool asRoot = false) => ViewPlan.Binds(p, host, asRoot).Select(b => b.Path).ToList();

        var binds = BindsOn(Build());
        Assert.Contains("/etc/ld.so.cache", binds);
        Assert.DoesNotContain("/etc", binds);
        Assert.DoesNotContain("/etc/f0", binds);
        Assert.DoesNotContain("/etc/ld.so.cache", BindsOn(Build(Deny("/etc/ld.so.cache"))));
        Assert.DoesNotContain("/etc/ld.so.cache", BindsOn(Build(new Rule(AccessKind.Write, Verdict.Allow, new PathDescriptor("/etc"), DecisionSource.Flag, "/etc"))));
        Assert.DoesNotContain("/etc/ld.so.cache", BindsOn(Build(), asRoot: true));
        Assert.DoesNotContain("/etc/ld.so.cache", ViewPlan.Binds(Build(), new FakeTree("/usr/", "/etc/", "/etc/f0", "/tmp/"), false).Select(b => b.Path));

        // An /etc small enough to bind around its secrets binds the file as one of its names, once.
        var small = new FakeTree("/usr/", "/etc/", "/etc/shadow", "/etc/ld.so.cache", "/etc/passwd", "/tmp/");
        Assert.Single(ViewPlan.Binds(Build(), small, false), b => b.Path == "/etc/ld.so.cache");
    }

    [Fact]
    public void As_root_the_base_grants_are_left_to_the_mirror_but_the_users_rules_are_bound()
    {
        var binds = Binds(Build(Allow("/home/u/project")), asRoot: true);
        Assert.DoesNotContain("/usr", binds);
        Assert.DoesNotContain("/etc/passwd", binds);
        Assert.Contains("/home/u/project", binds);
    }

    [Fact]
    public void Every_read_allowed_binds_each_top_level_tree_but_never_a_credentials_place()
    {
        var all = Build(new Rule(AccessKind.Read, Verdict.Allow, new AnyDescriptor(), DecisionSource.Flag, "--allow-read"), Deny("/home/u/.ssh"));
        var binds = Binds(all);
        Assert.Contains("/usr", binds);
        Assert.Contains("/opt", binds);
        Assert.Contains("/home/u/docs", binds);
        Assert.DoesNotContain(binds, b => b.StartsWith("/home/u/.ssh", StringComparison.Ordinal));
        Assert.DoesNotContain("/", binds);

        // "A" at the prompt: every path but the credentials places, which still get their own question.
        var allButSensitive = Build(new Rule(AccessKind.Read, Verdict.Allow, new AllButSensitiveDescriptor("/home/u"), DecisionSource.Prompt, "A"));
        var b2 = Binds(allButSensitive);
        Assert.Contains("/home/u/docs", b2);
        Assert.DoesNotContain(b2, b => b.StartsWith("/home/u/.ssh", StringComparison.Ordinal));
    }

    [Fact]
    public void Nothing_is_bound_below_another_bind_and_every_mount_point_and_its_parents_are_kept()
    {
        var steps = ViewPlan.Build(Build(Allow("/home/u/project"), Allow("/usr/bin")), Host, asRoot: false, terminal: "/dev/pts/7");
        var binds = steps.Where(s => s.Verb == "bind").Select(s => s.Path).ToList();
        Assert.Equal(binds.Count, binds.Distinct().Count());
        Assert.DoesNotContain(binds, b => binds.Any(o => o != b && Descriptor.InTree(o, b)));
        var parents = ViewPlan.MountPoints(steps).ToList();
        Assert.Contains("/home/u", parents);
        Assert.Contains("/home", parents);
        Assert.Contains("/", parents);
        Assert.Contains("/home/u/project", parents); // the mount point itself: its entry must not be looked up at every walk
        Assert.Contains("/proc", parents);
        Assert.Equal("tmpfs", steps[0].Verb);
        Assert.Contains(steps, s => s.Verb == "proc" && s.Path == "/proc");
        Assert.Contains(steps, s => s.Verb == "bind" && s.Path == "/dev/null");
    }

    [Fact]
    public void A_tree_with_a_deny_inside_and_too_many_entries_is_left_to_the_mirror()
    {
        // Splitting it would cost a bind per entry at every start; the mirror decides each open instead.
        var entries = new List<string> { "/usr/", "/etc/", "/etc/shadow", "/home/", "/home/u/", "/home/u/project/", "/tmp/", "/tmp/cordon-run/" };
        entries.AddRange(Enumerable.Range(0, ViewPlan.MaxSplit + 1).Select(i => $"/etc/conf{i}"));
        var binds = ViewPlan.Binds(Build(Allow("/home/u/project")), new FakeTree([.. entries]), asRoot: false).Select(b => b.Path).ToList();
        Assert.DoesNotContain(binds, b => b.StartsWith("/etc", StringComparison.Ordinal));
        Assert.Contains("/usr", binds);
        Assert.Contains("/home/u/project", binds);
    }
}
