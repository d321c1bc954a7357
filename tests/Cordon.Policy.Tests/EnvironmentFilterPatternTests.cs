using Cordon.Policy;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Xunit;

namespace Cordon.Policy.Tests;

/// <summary>
/// The hand-written check that replaces a regular expression on the start-up path must say what the expression says:
/// values built from the pieces the pattern cares about (key words in any case, '=', the separators before a key, the
/// characters that end a value, spaces of every kind the pattern knows) and some it does not.
/// </summary>
public class EnvironmentFilterPatternTests
{
    private static readonly Gen<string> Piece = Gen.Elements(
        "password", "PASSWD", "Pwd", "token", "TOKEN", "secret", "apikey", "API_KEY", "api-key", "pass", "tok",
        "=", "=", " ", "\t", "\n", "\v", "\f", "\r", ";", "&", "?", ",", ":", "/", "@", "-", "_", "x", "My", "1", "a=b", "\u001c", "");

    [Property(MaxTest = 5000)]
    public Property The_ascii_check_matches_what_the_pattern_matches() =>
        Prop.ForAll(Gen.ListOf(Piece).Select(p => string.Concat(p)).ToArbitrary(), value =>
            EnvironmentFilter.KeyValueSecretInAscii(value) == EnvironmentFilter.KeyValueSecretByPattern(value));

    [Theory]
    [InlineData("Server=db;Password=hunter2", true)]
    [InlineData("https://h/x?access_token=abc", true)]
    [InlineData("a, pwd = x", true)]
    [InlineData("passwordtoken=1", true)]
    [InlineData("testenv.passenv+=#,OPENBLAS_*", false)]
    [InlineData("password=;x", false)]
    [InlineData("password= ", false)]
    [InlineData("/opt/tokens/bin", false)]
    [InlineData("xpassword=1", true)]
    [InlineData("1password=1", false)]
    public void Examples_agree_with_the_pattern(string value, bool secret)
    {
        Assert.Equal(secret, EnvironmentFilter.KeyValueSecretByPattern(value));
        Assert.Equal(secret, EnvironmentFilter.KeyValueSecretInAscii(value));
    }
}
