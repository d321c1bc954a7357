using System.Text;
using Xunit;

namespace Cordon.Terminal.Tests;

public class AnswerKeysTests
{
    private static string Accepted(string typed)
    {
        var keys = new AnswerKeys();
        return new string(Encoding.Latin1.GetBytes(typed).Where(keys.Accept).Select(b => (char)b).ToArray());
    }

    [Theory]
    [InlineData("y", "y")]
    [InlineData("\u0003", "\u0003")]
    [InlineData("\x1b]11;rgb:ffff/ffff/ffff\x1b\\", "")]
    [InlineData("\x1b]11;rgb:ffff/ffff/ffff\ay", "y")]
    [InlineData("\x1bP1$r0m\x1b\\n", "n")]
    [InlineData("\x1b[?64;1;2;6;22c\x1b[12;40Rd", "d")]
    [InlineData("\x1b[A\x1bOA\x1b[1;5Dn", "n")]
    [InlineData("\x1b" + "ay", "y")]
    [InlineData("\xc2\x9d" + "11;rgb:ffff\ay", "y")]
    [InlineData("\x9b" + "12;40R\x9d" + "11;rgb:ffff\x9c" + "a", "a")]
    public void Only_keys_outside_escape_sequences_may_answer(string typed, string accepted) =>
        Assert.Equal(accepted, Accepted(typed));
}
