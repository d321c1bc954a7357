using Cordon.Policy;
using Xunit;

namespace Cordon.Profiles.Tests;

public class ProjectTests
{
    private static Project Find(string cwd, params string[] existing) =>
        Project.Find(cwd, "/home/u", p => existing.Contains(p));

    [Fact]
    public void The_nearest_folder_with_a_marker_is_the_project()
    {
        Assert.Equal(new Project("/home/u/code/app", ".git"), Find("/home/u/code/app/src/lib", "/home/u/code/app/.git", "/home/u/code/.git"));
        Assert.Equal(new Project("/home/u/code/app/src", ".cordon.yaml"), Find("/home/u/code/app/src/lib", "/home/u/code/app/.git", "/home/u/code/app/src/.cordon.yaml"));
        Assert.Equal(new Project("/srv/app", ".git"), Find("/srv/app/x", "/srv/app/.git"));
    }

    [Fact]
    public void Without_a_marker_the_project_is_the_directory_cordon_started_in()
    {
        Assert.Equal(new Project("/home/u/scratch", null), Find("/home/u/scratch"));
        Assert.Equal(new Project("/tmp/x", null), Find("/tmp/x"));
    }

    [Fact]
    public void A_home_kept_in_git_or_a_marker_above_the_home_is_not_the_project()
    {
        Assert.Equal(new Project("/home/u/notes", null), Find("/home/u/notes", "/home/u/.git", "/home/.cordon.yaml", "/.git"));
        Assert.Equal(new Project("/home/u", null), Find("/home/u", "/home/u/.git"));
        Assert.Equal(new Project("/opt/x", null), Find("/opt/x", "/.git"));
    }

    [Fact]
    public void Each_project_has_its_own_file_named_after_it_and_the_file_says_which_project()
    {
        var store = new ProfileStore("/home/u/.config/cordon");
        var a = new Project("/home/u/code/app", ".git").ProfilePath(store);
        var b = new Project("/home/u/other/app", ".git").ProfilePath(store);
        Assert.NotEqual(a, b);
        Assert.StartsWith("/home/u/.config/cordon/projects/app-", a, StringComparison.Ordinal);
        Assert.Equal(a, new Project("/home/u/code/app", null).ProfilePath(store)); // keyed by the path alone
        Assert.DoesNotContain("..", new Project("/x/..weird name\n", null).ProfilePath(store), StringComparison.Ordinal);

        var project = new Project("/home/u/code/app", ".git");
        var text = Profile.Empty("p").With(new ProfileEntry(AccessKind.Read, Verdict.Allow, "./src")).Render(project.Header);
        Assert.Equal("/home/u/code/app", Project.RootOf(text));
        Assert.Null(Project.RootOf("read: { allow: [x] }\n"));
    }

    [Fact]
    public void A_file_that_names_another_project_is_never_used_and_one_without_a_header_is_kept()
    {
        var dir = Directory.CreateTempSubdirectory("cordon-projects-").FullName;
        try
        {
            var store = new ProfileStore(dir);
            var project = new Project("/home/u/code/app", ".git");
            var first = project.ProfilePath(store);
            Directory.CreateDirectory(store.ProjectDirectory);
            File.WriteAllText(first, Profile.Empty("p").Render(new Project("/home/u/evil/app", ".git").Header));
            var second = project.ProfilePath(store);
            Assert.Equal(first[..^".yaml".Length] + "-2.yaml", second);

            File.WriteAllText(first, "read: { allow: [\"./src\"] }\n"); // edited by the user, header gone
            Assert.Equal(first, project.ProfilePath(store));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void A_project_profile_resolves_dot_paths_against_the_project_root()
    {
        var profile = Profile.Parse("read: { allow: [\"./src\", \"~/.npm\"] }\n", "p", "p.yaml", new Resolver());
        var rooted = new RootedResolver(new Resolver(), "/home/u/code/app");
        var paths = profile.Rules(rooted).Select(r => ((PathDescriptor)r.Descriptor).Path).ToList();
        Assert.Equal(["/home/u/code/app/src", "/home/u/.npm"], paths);
    }
}

public class BuiltInDefaultTests
{
    private static readonly Resolver R = new();

    [Theory]
    [InlineData("npm", "node")]
    [InlineData("npm-cli.js", "node")]
    [InlineData("npx", "node")]
    [InlineData("node", "node")]
    [InlineData("python3.11", "python")]
    [InlineData("pip3", "python")]
    [InlineData("git", "git")]
    [InlineData("git-remote-https", "git")]
    [InlineData("bash", "shells")]
    [InlineData("cargo", "cargo")]
    [InlineData("dotnet", "dotnet")]
    [InlineData("mvn", "java")]
    [InlineData("gradlew", "java")]
    [InlineData("javac", "java")]
    public void A_tool_brings_its_set(string program, string set) => Assert.Equal([set], BuiltIn.For(program));

    [Theory]
    [InlineData("cat")]
    [InlineData("python-evil")]
    [InlineData("nodejs-helper")]
    [InlineData("gitk-but-not")]
    public void Other_programs_bring_none(string program) => Assert.Empty(BuiltIn.For(program));

    [Fact]
    public void Every_set_grants_something_and_nothing_of_it_reaches_a_credentials_place()
    {
        foreach (var set in BuiltIn.Names)
        {
            var raw = BuiltIn.Get(set).Rules(R);
            var granted = BuiltIn.Grants(set, set, R);
            Assert.NotEmpty(granted);
            Assert.Equal(raw.Count, granted.Count); // the sets as written need no filtering
            foreach (var rule in granted)
            {
                Assert.Equal(DecisionSource.BuiltIn, rule.Source);
                Assert.StartsWith($"built-in {set} ({set} ran): ", rule.Text, StringComparison.Ordinal);
                if (rule.Descriptor is PathDescriptor p)
                {
                    Assert.False(Sensitive.Reachable(R.Home, p.Path), p.Path);
                }
            }
        }
    }

    [Fact]
    public void A_rule_that_would_reach_credentials_is_dropped_whatever_a_set_says()
    {
        var rules = new[] { "~/.ssh", "~/.npmrc", "~/.config", "~/.config/gh/hosts.yml", "~", "~/.cache/*/x", "~/.npm" }
            .SelectMany(v => FlagRules.Parse(AccessKind.Read, Verdict.Allow, v, R))
            .Concat(FlagRules.Parse(AccessKind.Read, Verdict.Allow, null, R))
            .Append(new Rule(AccessKind.Read, Verdict.Allow, new ExactPathDescriptor("/home/u/.ssh/id_rsa"), DecisionSource.BuiltIn, "x"));
        var kept = BuiltIn.Safe(rules, R.Home).Select(r => r.Descriptor.Text).ToList();
        Assert.Equal(["/home/u/.cache/*/x", "/home/u/.npm"], kept);
    }
}
