using Cordon.Policy;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Xunit;

namespace Cordon.Profiles.Tests;

internal sealed class Resolver : IPathResolver
{
    public string Home => "/home/u";

    public string WorkingDirectory => "/home/u/project";

    public string Canonicalize(string absolutePath) => absolutePath;

    public string? FindProgram(string name) => name == "git" ? "/usr/bin/git" : null;
}

public class ProfileTests
{
    private static readonly Resolver R = new();

    private static Profile Parse(string text) => Profile.Parse(text, "p", "p.yaml", R);

    private static string ErrorOf(string text) => Assert.Throws<ProfileException>(() => Parse(text)).Message;

    [Fact]
    public void A_full_profile_gives_rules_that_say_where_they_came_from()
    {
        var p = Parse("""
            include: [git]
            read:
              allow: [., "~/.npm", "/opt/**/*.so"]
              deny: ["~/.ssh"]
            write: { allow: ["~/.npm"] }
            run: { allow: [git] }
            net: { allow: ["*.github.com:443", "10.0.0.0/8", localhost, "unix:/run/x.sock"] }
            env: { allow: [NPM_TOKEN] }
            """);
        var rules = p.Rules(R);
        Assert.Contains(rules, r => r.Kind == AccessKind.Read && r.Verdict == Verdict.Deny && r.Text == "profile p: read deny ~/.ssh");
        Assert.All(rules, r => Assert.Equal(DecisionSource.Profile, r.Source));
        Assert.Contains(rules, r => r.Text.StartsWith("profile include git:", StringComparison.Ordinal));
        var policy = new Policy.Policy(rules, [], null, "/home/u");
        Request Read(string path) => new(AccessKind.Read, Operation.Read, path, null, Subject.Unknown(1));
        Assert.True(policy.Match(Read("/home/u/project/src/a.c"))!.Allowed);
        Assert.True(policy.Match(Read("/opt/x/y/lib.so"))!.Allowed);
        Assert.False(policy.Match(Read("/home/u/.ssh/id_rsa"))!.Allowed);
        Assert.Null(policy.Match(Read("/home/u/notes")));
    }

    [Theory]
    [InlineData("reed:\n  allow: [x]\n", "p.yaml:1:1: unknown key \"reed\"")]
    [InlineData("read:\n  alow: [x]\n", "p.yaml:2:3: unknown key \"alow\" under read")]
    [InlineData("read: [x]\n", "p.yaml:1:7: \"read\" holds allow: and deny: lists")]
    [InlineData("include: [nodejs]\n", "p.yaml:1:11: unknown include \"nodejs\"")]
    [InlineData("net:\n  allow: [\"1.2.3.4:99999\"]\n", "p.yaml:2:11:")]
    [InlineData("read:\n  allow: [\"\"]\n", "p.yaml:2:11: expected a value")]
    [InlineData("read:\n  allow: x\n", "p.yaml:2:10: expected a list")]
    [InlineData("read: {allow: [a]\n", "p.yaml:")]
    [InlineData("- a\n- b\n", "p.yaml:1:1: a profile is a mapping")]
    public void Broken_profiles_say_file_line_and_column(string text, string expected) =>
        Assert.StartsWith(expected, ErrorOf(text), StringComparison.Ordinal);

    [Fact]
    public void An_empty_file_is_an_empty_profile() => Assert.Empty(Parse("").Entries);

    [Fact]
    public void Every_built_in_abstraction_parses()
    {
        foreach (var name in BuiltIn.Names)
        {
            Assert.NotEmpty(BuiltIn.Get(name).Rules(R));
        }
    }

    [Property(MaxTest = 300)]
    public Property Rendering_then_parsing_gives_the_same_entries() =>
        Prop.ForAll(
            Gen.Elements("a", "b", "*", "**", ".", "~", ":", "\"", "\\", "'", "#", " ", "-", "x y", "é", "&", "!", "{", "[", "%", "@", "`", "\t").ListOf()
                .Select(parts => "/" + string.Concat(parts)).ToArbitrary(),
            path =>
            {
                var entry = new ProfileEntry(AccessKind.Write, Verdict.Deny, path);
                var p = Profile.Empty("p").With(entry);
                Profile back;
                try
                {
                    back = Parse(p.Render("header"));
                }
                catch (ProfileException e) when (e.Message.Contains("glob", StringComparison.OrdinalIgnoreCase) || e.Message.Contains('['))
                {
                    return true; // a value the flag parser itself rejects (a bad glob) is refused either way
                }

                return back.Entries.SequenceEqual(p.Entries);
            });

    [Fact]
    public void With_and_merge_never_duplicate()
    {
        var e = new ProfileEntry(AccessKind.Read, Verdict.Allow, "/x");
        var p = Profile.Empty("p").With(e);
        Assert.Same(p, p.With(e));
        Assert.Single(p.Merge(p).Entries);
    }

    [Fact]
    public void Saves_from_many_threads_at_once_lose_nothing_and_leave_no_temporary_files()
    {
        var dir = Directory.CreateTempSubdirectory("cordon-profile-test-").FullName;
        try
        {
            var path = Path.Combine(dir, "p.yaml");
            Parallel.For(0, 40, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
                ProfileStore.Save(path, [new ProfileEntry(AccessKind.Read, Verdict.Allow, $"/data/{i}")], R));
            var back = ProfileStore.Load(path, R, mayBeMissing: false);
            Assert.Equal(40, back.Entries.Count);
            Assert.Equal(["p.yaml", "p.yaml.lock"], Directory.GetFiles(dir).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData("npm", false)]
    [InlineData("./my.yaml", true)]
    [InlineData("x.yml", true)]
    public void A_profile_argument_is_a_name_or_a_file(string arg, bool isFile)
    {
        var store = new ProfileStore("/cfg/cordon");
        var path = store.PathOf(arg);
        Assert.Equal(!isFile, path.StartsWith("/cfg/cordon/profiles/", StringComparison.Ordinal));
    }
}

public class FolderMergeTests
{
    private static readonly Gen<string> Paths =
        Gen.Elements("a", "b", "c", ".ssh", "x").ListOf().Where(l => l.Count is > 0 and < 5).Select(l => "/" + string.Join('/', l));

    // Safe: two levels deep at least, and never anything with ".ssh" in it (a stand-in for "sensitive").
    private static bool Safe(string folder) => folder.Count(c => c == '/') >= 2 && !folder.Contains(".ssh", StringComparison.Ordinal);

    [Property(MaxTest = 500)]
    public Property Every_path_stays_covered_and_only_safe_folders_are_added() =>
        Prop.ForAll(Paths.ListOf().Select(l => l.ToList()).ToArbitrary(), input =>
        {
            var output = FolderMerge.Merge(input, Safe);
            bool covered = input.All(p => output.Any(o => o == p || FolderMerge.Below(p, o)));
            bool minimal = output.All(o => !output.Any(q => q != o && FolderMerge.Below(o, q)));
            bool safe = output.All(o => input.Contains(o) || Safe(o));
            return covered && minimal && safe;
        });

    [Fact]
    public void Siblings_fold_into_their_folder_but_not_into_an_unsafe_one()
    {
        Assert.Equal(["/p/src"], FolderMerge.Merge(["/p/src/a.c", "/p/src/b.c"], Safe));
        Assert.Equal(["/a", "/b"], FolderMerge.Merge(["/a", "/b"], Safe)); // "/" is never safe
        Assert.Equal(["/h/.ssh/id_rsa", "/h/.ssh/known_hosts"], FolderMerge.Merge(["/h/.ssh/id_rsa", "/h/.ssh/known_hosts"], Safe));
    }
}
