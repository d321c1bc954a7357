using Cordon.Policy;
using Xunit;

namespace Cordon.Policy.Tests;

/// <summary>An answer means what the person saw: no key opens a credentials place it was not asked about.</summary>
public class AnswerTests
{
    private static Request Req(AccessKind kind, Operation op, string resource) =>
        new(kind, op, resource, null, new Subject(new ProcessSummary(42, "/usr/bin/x", ["x"]), 42, [], _ => false));

    private static Request Read(string path) => Req(AccessKind.Read, Operation.Read, path);

    private static Request List(string path) => Req(AccessKind.Read, Operation.List, path);

    private static Policy Build(IPrompter prompter) =>
        new([], BaseRules.For(new BaseContext("/home/u", "/tmp/cordon-run", "/usr/bin/make")), prompter, "/home/u")
        {
            Project = "/home/u/project",
            BurstWindow = TimeSpan.Zero,
        };

    private static Decision Decide(Policy p, Request r) => p.DecideAsync(r, CancellationToken.None).AsTask().Result;

    [Theory]
    [InlineData(Operation.List)]
    [InlineData(Operation.Read)] // the LSM engine does not tell a directory from a file: the home is never opened whole
    public void Always_on_the_home_directory_allows_that_directory_and_nothing_below_it(Operation op)
    {
        var p = Build(new FakePrompter(PromptAnswer.AllowAlways));
        Assert.True(Decide(p, Req(AccessKind.Read, op, "/home/u")).Allowed);
        Assert.True(p.Match(List("/home/u"))?.Allowed);
        Assert.Null(p.Match(Read("/home/u/.ssh/id_rsa")));
        Assert.Null(p.Match(Read("/home/u/notes.txt")));
        Assert.Equal("only:/home/u", Assert.Single(p.UserRules).Descriptor.Text);
    }

    [Fact]
    public void Always_on_a_listing_covers_the_listing_not_the_files()
    {
        var p = Build(new FakePrompter(PromptAnswer.AllowAlways));
        Assert.True(Decide(p, List("/home/u/project/src")).Allowed);
        Assert.True(p.Match(List("/home/u/project/src"))?.Allowed);
        Assert.Null(p.Match(Read("/home/u/project/src/a.c")));
    }

    [Fact]
    public void Always_on_a_folder_that_holds_credentials_covers_that_folder_alone()
    {
        var p = Build(new FakePrompter(PromptAnswer.AllowAlways));
        Assert.True(Decide(p, Read("/home/u/.config")).Allowed);
        Assert.Null(p.Match(Read("/home/u/.config/gh/hosts.yml")));
    }

    [Fact]
    public void Always_on_a_file_still_covers_the_file()
    {
        var p = Build(new FakePrompter(PromptAnswer.AllowAlways));
        Assert.True(Decide(p, Read("/home/u/project/a.txt")).Allowed);
        Assert.True(p.Match(Read("/home/u/project/a.txt"))?.Allowed);
        Assert.Equal("/home/u/project/a.txt", Assert.Single(p.UserRules).Descriptor.Text);
    }

    [Fact]
    public void Deny_always_on_the_home_directory_denies_the_listing_only()
    {
        var p = Build(new FakePrompter(PromptAnswer.DenyAlways));
        Assert.False(Decide(p, List("/home/u")).Allowed);
        Assert.False(p.Match(List("/home/u"))!.Allowed);
        Assert.Null(p.Match(Read("/home/u/project/a.txt")));
    }

    [Theory]
    [InlineData(AccessKind.Read)]
    [InlineData(AccessKind.Write)]
    public void All_of_a_kind_never_covers_a_credentials_place(AccessKind kind)
    {
        var op = kind == AccessKind.Read ? Operation.Read : Operation.Write;
        var p = Build(new FakePrompter(PromptAnswer.AllowKind));
        Assert.True(Decide(p, Req(kind, op, "/home/u/.npmrc")).Allowed); // the question it answered
        Assert.True(p.Match(Req(kind, op, "/home/u/notes.txt"))?.Allowed);
        Assert.True(p.Match(Req(kind, op, "/srv/data/x"))?.Allowed);
        foreach (var secret in new[] { "/home/u/.ssh/id_rsa", "/home/u/.aws/credentials", "/home/u/.npmrc", "/home/u/.config/gh/hosts.yml", "/home/u/.bashrc", "/home/u/.local/share/keyrings/login.keyring", "/home/u/.gnupg/private-keys-v1.d/k" })
        {
            Assert.Null(p.Match(Req(kind, op, secret)));
        }
    }

    [Fact]
    public void All_reads_grants_only_folders_without_credentials_to_the_kernel()
    {
        var p = Build(new FakePrompter(PromptAnswer.AllowKind));
        Assert.True(Decide(p, Read("/home/u/notes.txt")).Allowed);
        Assert.Null(p.FolderVerdict(AccessKind.Read, "/"));
        Assert.Null(p.FolderVerdict(AccessKind.Read, "/home/u"));
        Assert.Null(p.FolderVerdict(AccessKind.Read, "/home/u/.config"));
        Assert.Null(p.FolderVerdict(AccessKind.Read, "/home/u/.ssh"));
        Assert.Equal(Verdict.Allow, p.FolderVerdict(AccessKind.Read, "/home/u/project"));
        Assert.Equal(Verdict.Allow, p.FolderVerdict(AccessKind.Read, "/srv"));
    }

    [Fact]
    public void All_reads_is_not_saved()
    {
        var p = Build(new FakePrompter(PromptAnswer.AllowKind));
        Decide(p, Read("/home/u/notes.txt"));
        var rule = Assert.Single(p.UserRules);
        Assert.IsType<AllButSensitiveDescriptor>(rule.Descriptor);
        Assert.Contains("except credentials places", rule.Text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(Operation.List, "/home/u/.config/procps", "/home/u/.config/procps")]
    [InlineData(Operation.Read, "/home/u/.config/procps/toprc", "/home/u/.config/procps")]
    [InlineData(Operation.Read, "/home/u/.config/procps", null)] // the directory itself, not known as one: ~/.config holds gh's tokens
    [InlineData(Operation.Read, "/home/u/.config/x.conf", null)]
    [InlineData(Operation.Read, "/home/u/.local/share/app/x", "/home/u/.local/share/app")]
    [InlineData(Operation.Read, "/home/u/.local/x", null)] // ~/.local/share/keyrings is inside
    [InlineData(Operation.List, "/opt/wheels", "/opt/wheels")]
    [InlineData(Operation.Read, "/opt/wheels/x.whl", "/opt/wheels")]
    [InlineData(Operation.Read, "/opt/wheels", null)] // never all of /opt
    [InlineData(Operation.Read, "/var/x", null)]
    [InlineData(Operation.Read, "/srv/x", null)]
    [InlineData(Operation.List, "/srv", null)]
    [InlineData(Operation.List, "/home/u", null)]
    [InlineData(Operation.List, "/home", null)]
    [InlineData(Operation.List, "/home/u/.ssh", null)]
    [InlineData(Operation.List, "/home/u/project/src", "/home/u/project")]
    public void A_folder_offer_is_never_a_parent_of_credentials_nor_a_top_level_folder(Operation op, string resource, string? expected) =>
        Assert.Equal(expected, Build(new FakePrompter()).SuggestFolder(Req(AccessKind.Read, op, resource)));

    [Fact]
    public void The_project_is_not_offered_when_it_holds_credentials()
    {
        var p = new Policy([], [], new FakePrompter(), "/home/u") { Project = "/home/u/.config" };
        Assert.Null(p.SuggestFolder(Read("/home/u/.config/x.conf")));
    }

    [Fact]
    public void Only_names_one_path_in_flags_and_profiles()
    {
        var rule = Assert.Single(FlagRules.Parse(AccessKind.Read, Verdict.Allow, "only:~", new FakeResolver()));
        var exact = Assert.IsType<ExactPathDescriptor>(rule.Descriptor);
        Assert.Equal("/home/u", exact.Path);
        Assert.Equal("only:/home/u", exact.Text);
        Assert.True(exact.Matches(List("/home/u")));
        Assert.False(exact.Matches(Read("/home/u/.ssh/id_rsa")));
        Assert.Equal(Reach.Some, exact.Within("/home"));
        Assert.Equal(Reach.None, exact.Within("/home/u/project"));
        Assert.Throws<PolicyException>(() => FlagRules.Parse(AccessKind.Read, Verdict.Allow, "only:~/*.txt", new FakeResolver()));
    }
}
