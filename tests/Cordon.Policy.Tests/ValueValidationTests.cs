using Cordon.Policy;
using Xunit;

namespace Cordon.Policy.Tests;

/// <summary>Values that cannot mean what they say are refused with one line, not turned into rules that match nothing.</summary>
public class ValueValidationTests
{
    private static readonly FakeResolver R = new();

    private static string ErrorOf(AccessKind kind, string value) =>
        Assert.Throws<PolicyException>(() => FlagRules.Parse(kind, Verdict.Allow, value, R)).Message;

    [Theory]
    [InlineData("300.0.0.1")]
    [InlineData("300.0.0.1:443")]
    [InlineData("256.1.1.1")]
    [InlineData("1.2.3")]
    [InlineData("1.2.3.4.5")]
    [InlineData("10.1")]
    [InlineData("1")]
    [InlineData("010.0.0.1")]
    [InlineData("0x7f.0.0.1")]
    [InlineData("300.0.0.0/8")]
    [InlineData("*.1.2.3")]
    public void A_malformed_IPv4_address_is_refused(string value) =>
        Assert.Contains("is not a valid IPv4 address", ErrorOf(AccessKind.Net, value), StringComparison.Ordinal);

    [Theory]
    [InlineData("192.0.2.1")]
    [InlineData("0.0.0.0")]
    [InlineData("255.255.255.255:53")]
    [InlineData("10.0.0.0/8")]
    [InlineData("::1")]
    [InlineData("[2001:db8::1]:443")]
    [InlineData("registry.npmjs.org:443")]
    [InlineData("*.github.com")]
    [InlineData("host-1.example")]
    [InlineData("3com.example")]
    public void Well_formed_addresses_and_names_are_accepted(string value) =>
        Assert.NotEmpty(FlagRules.Parse(AccessKind.Net, Verdict.Allow, value, R));

    [Theory]
    [InlineData("[unclosed*")]
    [InlineData("src/[ab*.c")]
    [InlineData("~/.ssh/id_[rd*")]
    [InlineData("/opt/**/lib[!x")]
    public void An_unclosed_bracket_in_a_glob_is_refused(string value)
    {
        Assert.Contains("'[' without a closing ']'", ErrorOf(AccessKind.Read, value), StringComparison.Ordinal);
        Assert.StartsWith("--allow-read: ", ErrorOf(AccessKind.Read, value), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/home/u/.ssh/id_[rd]sa*", "/home/u/.ssh/id_rsa.pub", true)]
    [InlineData("/home/u/.ssh/id_[rd]sa*", "/home/u/.ssh/id_dsa", true)]
    [InlineData("/home/u/.ssh/id_[rd]sa*", "/home/u/.ssh/id_ecdsa", false)]
    [InlineData("/home/u/log/[0-9]*.txt", "/home/u/log/2026.txt", true)]
    [InlineData("/home/u/log/[0-9]*.txt", "/home/u/log/x.txt", false)]
    [InlineData("/home/u/log/[!0-9]*.txt", "/home/u/log/x.txt", true)]
    [InlineData("/home/u/log/[!0-9]*.txt", "/home/u/log/2.txt", false)]
    [InlineData("/home/u/app/[[]slug]/*", "/home/u/app/[slug]/page.tsx", true)]
    [InlineData("/home/u/app/[[]slug]/*", "/home/u/app/s/page.tsx", false)]
    [InlineData("/home/u/a[*]b/*", "/home/u/a*b/x", true)]
    [InlineData("/home/u/a[*]b/*", "/home/u/aXb/x", false)]
    public void Bracket_classes_in_globs_match_one_character_of_the_set(string pattern, string path, bool covered) =>
        Assert.Equal(covered, new PathDescriptor(pattern).Covers(path));

    [Fact]
    public void Brackets_outside_a_glob_are_part_of_the_name()
    {
        var d = Assert.IsType<PathDescriptor>(FlagRules.Parse(AccessKind.Read, Verdict.Allow, "app/[slug]", R).Single().Descriptor);
        Assert.False(d.IsGlob);
        Assert.True(d.Covers("/home/u/project/app/[slug]/page.tsx"));
        Assert.False(d.Covers("/home/u/project/app/s/page.tsx"));
    }

    [Fact]
    public void A_working_directory_with_glob_characters_names_only_itself()
    {
        var odd = new OddResolver();
        var d = Assert.IsType<PathDescriptor>(FlagRules.Parse(AccessKind.Read, Verdict.Allow, "*.c", odd).Single().Descriptor);
        Assert.True(d.Covers("/w/p[1]*x/a.c"));
        Assert.False(d.Covers("/w/p1Qx/a.c"));
        var home = Assert.IsType<PathDescriptor>(FlagRules.Parse(AccessKind.Read, Verdict.Allow, "~/*.txt", odd).Single().Descriptor);
        Assert.True(home.Covers("/h/me?/n.txt"));
        Assert.False(home.Covers("/h/meX/n.txt"));
    }

    [Fact]
    public void A_bracket_segment_is_not_taken_for_a_literal_folder_when_deciding_whole_folders()
    {
        // Within must never understate: "/home/u/[ab]/*" reaches into /home/u/a.
        Assert.NotEqual(Reach.None, new PathDescriptor("/home/u/[ab]/*").Within("/home/u/a"));
    }

    private sealed class OddResolver : IPathResolver
    {
        public string Home => "/h/me?";

        public string WorkingDirectory => "/w/p[1]*x";

        public string Canonicalize(string absolutePath) => absolutePath;

        public string? FindProgram(string name) => null;
    }
}
