using System.Text.RegularExpressions;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Xunit;

namespace Cordon.Profiles.Tests;

/// <summary>
/// Whatever a profile file holds, cordon either reads it or says FILE:LINE:COLUMN and what is wrong, on one line:
/// never a stack trace from the YAML library (which once made cordon die with exit 134).
/// </summary>
public partial class MangledProfileTests
{
    private static readonly Resolver R = new();

    private static readonly string[] Valid =
    [
        "include: [node, git]\nread:\n  allow: [\".\", \"~/.npm\"]\n  deny: [\"~/.ssh\"]\nwrite: { allow: [\".\", \"~/.npm\"] }\nrun:   { allow: [git] }\nnet:   { allow: [\"registry.npmjs.org:443\", \"10.0.0.0/8\", \"unix:/run/app.sock\"] }\nenv:   { allow: [NPM_CONFIG_REGISTRY] }\n",
        "read: {allow: [.]}\nwrite: {allow: [./build]}\n",
        "# cordon profile\nread:\n  allow:\n    - \"/opt/**/*.so\"\n    - '~/p'\n  deny:\n    - ~/.aws\nnet:\n  deny: [\"*.evil.example\"]\n",
    ];

    // What a slip of the hand or a broken save inserts: YAML's structural characters, quotes, indentation.
    private static readonly string[] Pieces =
    [
        "{", "}", "[", "]", ":", ",", "\"", "'", "\n", " ", "  ", "\t", "-", "- ", "#", "&a", "*a", "!", "!!str ", "|", ">",
        "%", "@", "`", "?", "---\n", "...\n", "\\", "\u00a0", "\u0000", "\ufeff", "x", "read", "allow", "write: x",
    ];

    [GeneratedRegex(@"\Ap\.yaml:[0-9]+:[0-9]+: [^\n]+\z")]
    private static partial Regex OneLineWithPosition();

    private static Gen<string> Mangled =>
        from text in Gen.Elements(Valid)
        from edits in Gen.ListOf(
            from kind in Gen.Choose(0, 3)
            from at in Gen.Choose(0, 10_000)
            from piece in Gen.Elements(Pieces)
            from length in Gen.Choose(1, 6)
            select (kind, at, piece, length)).Where(l => l.Count is > 0 and <= 6)
        select edits.Aggregate(text, (t, e) =>
        {
            int i = t.Length == 0 ? 0 : e.at % (t.Length + 1);
            return e.kind switch
            {
                0 => t.Insert(i, e.piece),
                1 => t.Remove(i, Math.Min(e.length, t.Length - i)),
                2 => t[..i], // a truncated write
                _ => t.Remove(i, Math.Min(e.length, t.Length - i)).Insert(i, e.piece),
            };
        });

    private static bool ReadsOrSaysWhere(string text)
    {
        try
        {
            _ = Profile.Parse(text, "p", "p.yaml", R);
            return true;
        }
        catch (ProfileException e)
        {
            return OneLineWithPosition().IsMatch(e.Message);
        }
    }

    [Property(MaxTest = 1500)]
    public Property A_mangled_profile_is_read_or_named_with_line_and_column() =>
        Prop.ForAll(Mangled.ToArbitrary(), text => ReadsOrSaysWhere(text).Label(text));

    [Fact]
    public void A_line_break_inside_a_quoted_value_stays_escaped_in_the_one_line_message()
    {
        var e = Assert.Throws<ProfileException>(() => Profile.Parse("net: { allow: [\"u\\nix:/x\"] }\n", "p", "p.yaml", R));
        Assert.Matches(OneLineWithPosition(), e.Message);
        Assert.Contains("u\\nix:/x", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("read: {allow: [.]\nwrite: x\n")]
    [InlineData("read: {allow: [a]}\nread: {allow: [b]}\n")]
    [InlineData("read: {allow: [a]}\n---\nwrite: {allow: [b]}\n")]
    [InlineData("read: {allow: [*a]}\n")]
    public void Known_breakers_say_file_line_and_column(string text)
    {
        var e = Assert.Throws<ProfileException>(() => Profile.Parse(text, "p", "p.yaml", R));
        Assert.Matches(OneLineWithPosition(), e.Message);
    }
}
