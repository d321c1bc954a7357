using Cordon.Policy;
using FsCheck.Xunit;
using Xunit;

namespace Cordon.Policy.Tests;

/// <summary>
/// Policy.FolderVerdict promises one verdict for a whole tree; the LSM engine stores it in the kernel, which then
/// decides every file below the folder alone. A wrong promise would let the kernel allow what a rule denies.
/// </summary>
public class FolderVerdictTests
{
    private static readonly string[] RulePaths =
    [
        "/a", "/a/b", "/a/b/c", "/a/d", "/e", "/a/*/c", "/a/**/x", "/*", "/a/b/c.pem", "/e/*.pem", "/usr/lib", "/etc/ssh",
    ];

    private static readonly string[] Folders = ["/", "/a", "/a/b", "/a/b/c", "/a/d", "/e", "/usr", "/usr/lib", "/etc", "/etc/ssh", "/home/u", "/proc", "/a/node_modules", "/a/b/node_modules"];

    private static readonly string[] Segments = ["a", "b", "c", "d", "x", "c.pem", "ssh_host_rsa_key", "42", "lib", ".git", "hooks", ".vscode", "node_modules"];

    private static Request Req(AccessKind kind, string path) =>
        new(kind, kind == AccessKind.Write ? Operation.Write : Operation.Read, path, null,
            new Subject(new ProcessSummary(42, "/usr/bin/x", ["x"]), 42, [], _ => true));

    private static Policy Build(IEnumerable<Rule> user) =>
        new(user, BaseRules.For(new BaseContext("/home/u", "/tmp/cordon-run", "/usr/bin/make")), null, "/home/u");

    private static Rule R(AccessKind kind, Verdict verdict, string path) =>
        new(kind, verdict, new PathDescriptor(path), DecisionSource.Flag, path);

    [Property(MaxTest = 2000)]
    public bool A_folder_verdict_is_what_the_rules_give_every_path_below_it(int[] ruleSeeds, int folderSeed, int[] pathSeeds)
    {
        var kind = (folderSeed & 1) == 0 ? AccessKind.Read : AccessKind.Write;
        var rules = ruleSeeds.Take(6).Select(s =>
            s % 7 == 0 ? new Rule(kind, Verdict.Allow, new AnyDescriptor(), DecisionSource.Flag, "any")
                : R(kind, (s & 1) == 0 ? Verdict.Allow : Verdict.Deny, RulePaths[(s >> 1 & 0xffff) % RulePaths.Length]));
        var policy = Build(rules);
        var folder = Folders[(folderSeed >> 1 & 0xffff) % Folders.Length];
        var verdict = policy.FolderVerdict(kind, folder);
        if (verdict is null)
        {
            return true;
        }

        // The folder itself and paths below it built from the seeds (segments that hit every rule above).
        var paths = new List<string> { folder };
        foreach (var seed in pathSeeds.Take(12))
        {
            var path = folder.TrimEnd('/');
            int s = seed & 0x7fffffff;
            for (int depth = 0; depth <= s % 3; depth++, s /= Segments.Length)
            {
                path += "/" + Segments[s % Segments.Length];
            }

            paths.Add(path);
        }

        return paths.All(p => policy.Match(Req(kind, p))?.Verdict == verdict);
    }

    [Fact]
    public void A_granted_folder_is_uniform_until_a_deeper_deny()
    {
        var policy = Build([R(AccessKind.Read, Verdict.Allow, "/home/u/project")]);
        Assert.Equal(Verdict.Allow, policy.FolderVerdict(AccessKind.Read, "/home/u/project"));
        Assert.Equal(Verdict.Allow, policy.FolderVerdict(AccessKind.Read, "/home/u/project/src"));
        Assert.Null(policy.FolderVerdict(AccessKind.Read, "/home/u")); // only part of it is granted
        Assert.Null(policy.FolderVerdict(AccessKind.Write, "/home/u/project")); // another kind: asked

        var denied = Build([R(AccessKind.Read, Verdict.Allow, "/home/u/project"), R(AccessKind.Read, Verdict.Deny, "/home/u/project/.env")]);
        Assert.Null(denied.FolderVerdict(AccessKind.Read, "/home/u/project"));
        Assert.Equal(Verdict.Allow, denied.FolderVerdict(AccessKind.Read, "/home/u/project/src"));
    }

    [Fact]
    public void A_deny_glob_anywhere_below_spoils_the_folder()
    {
        var policy = Build([R(AccessKind.Read, Verdict.Allow, "/home/u/project"), R(AccessKind.Read, Verdict.Deny, "/home/u/**/*.pem")]);
        Assert.Null(policy.FolderVerdict(AccessKind.Read, "/home/u/project"));
        var elsewhere = Build([R(AccessKind.Read, Verdict.Allow, "/home/u/project"), R(AccessKind.Read, Verdict.Deny, "/home/u/keys/*.pem")]);
        Assert.Equal(Verdict.Allow, elsewhere.FolderVerdict(AccessKind.Read, "/home/u/project"));
    }

    [Fact]
    public void Base_rules_give_system_folders_but_not_etc_with_its_secrets()
    {
        var policy = Build([]);
        Assert.Equal(Verdict.Allow, policy.FolderVerdict(AccessKind.Read, "/usr"));
        Assert.Equal(Verdict.Allow, policy.FolderVerdict(AccessKind.Run, "/usr/bin"));
        Assert.Null(policy.FolderVerdict(AccessKind.Read, "/etc")); // /etc/shadow is denied
        Assert.Equal(Verdict.Allow, policy.FolderVerdict(AccessKind.Read, "/etc/apt"));
        Assert.Null(policy.FolderVerdict(AccessKind.Read, "/proc")); // depends on who asks
        Assert.Null(policy.FolderVerdict(AccessKind.Net, "/usr"));
    }

    [Fact]
    public void A_user_rule_that_reaches_part_of_a_system_folder_decides_it()
    {
        var policy = Build([R(AccessKind.Read, Verdict.Deny, "/usr/share/secret")]);
        Assert.Null(policy.FolderVerdict(AccessKind.Read, "/usr"));
        Assert.Equal(Verdict.Deny, policy.FolderVerdict(AccessKind.Read, "/usr/share/secret"));
        Assert.Equal(Verdict.Allow, policy.FolderVerdict(AccessKind.Read, "/usr/lib"));
    }

    [Fact]
    public void A_user_grant_inside_a_granted_system_folder_keeps_the_folder_whole()
    {
        // `--allow-read=/usr/include`: the user's rule decides /usr/include, the base rules the rest of /usr; both
        // allow, so /usr stays one tree (the view binds it whole instead of piece by piece around the grant).
        var policy = Build([R(AccessKind.Read, Verdict.Allow, "/usr/include")]);
        Assert.Equal(Verdict.Allow, policy.FolderVerdict(AccessKind.Read, "/usr"));
        Assert.Null(policy.FolderVerdict(AccessKind.Read, "/usr", asRoot: true)); // the base half stands for the user
        var mixed = Build([R(AccessKind.Read, Verdict.Allow, "/usr/include"), R(AccessKind.Read, Verdict.Deny, "/usr/share/secret")]);
        Assert.Null(mixed.FolderVerdict(AccessKind.Read, "/usr"));
        Assert.Null(Build([R(AccessKind.Read, Verdict.Allow, "/etc/apt")]).FolderVerdict(AccessKind.Read, "/etc")); // /etc/shadow
    }

    [Fact]
    public void Everything_allowed_grants_the_root_unless_a_path_is_denied()
    {
        var all = Build([new Rule(AccessKind.Read, Verdict.Allow, new AnyDescriptor(), DecisionSource.Flag, "--allow-read")]);
        Assert.Contains((AccessKind.Read, "/"), all.FolderCandidates());
        Assert.Equal(Verdict.Allow, all.FolderVerdict(AccessKind.Read, "/"));
        Assert.Null(Build([]).FolderVerdict(AccessKind.Read, "/"));

        var secret = Build([new Rule(AccessKind.Read, Verdict.Allow, new AnyDescriptor(), DecisionSource.Flag, "--allow-read"), R(AccessKind.Read, Verdict.Deny, "/home/u/.ssh")]);
        Assert.Null(secret.FolderVerdict(AccessKind.Read, "/"));
        Assert.Equal(Verdict.Allow, secret.FolderVerdict(AccessKind.Read, "/usr"));
    }

    [Fact]
    public void A_remembered_answer_changes_the_folder_verdict()
    {
        // (Writes to an allowed folder are never granted whole: the guard asks about .git/hooks and the like in it.)
        var policy = Build([R(AccessKind.Read, Verdict.Allow, "/home/u/project")]);
        Assert.Equal(Verdict.Allow, policy.FolderVerdict(AccessKind.Read, "/home/u/project"));
        policy.Add(R(AccessKind.Read, Verdict.Deny, "/home/u/project/.env"));
        Assert.Null(policy.FolderVerdict(AccessKind.Read, "/home/u/project"));
        var nodeModules = Build([R(AccessKind.Write, Verdict.Allow, "/home/u/project")]);
        Assert.Equal(Verdict.Allow, nodeModules.FolderVerdict(AccessKind.Write, "/home/u/project/node_modules"));
        nodeModules.Add(R(AccessKind.Write, Verdict.Deny, "/home/u/project/node_modules/.bin"));
        Assert.Null(nodeModules.FolderVerdict(AccessKind.Write, "/home/u/project/node_modules"));
    }

    [Fact]
    public void As_root_a_base_grant_that_stands_for_the_user_promises_no_tree()
    {
        // The view binds a tree only when every file in it is allowed; as root the base grants only what the user
        // could read, which a bind cannot tell apart. A user's own rule still promises its tree.
        var policy = Build([R(AccessKind.Read, Verdict.Allow, "/home/u/project")]);
        Assert.Equal(Verdict.Allow, policy.FolderVerdict(AccessKind.Read, "/usr/lib"));
        Assert.Null(policy.FolderVerdict(AccessKind.Read, "/usr/lib", asRoot: true));
        Assert.Equal(Verdict.Allow, policy.FolderVerdict(AccessKind.Read, "/home/u/project", asRoot: true));
        Assert.Equal(Verdict.Allow, policy.FolderVerdict(AccessKind.Read, "/tmp/cordon-run", asRoot: true));
    }
}
