using System.Globalization;
using System.Text.RegularExpressions;
using Xunit;

namespace Cordon.Terminal.Tests;

public partial class EnvironmentQuestionTests
{
    [GeneratedRegex("\x1b\\[[0-9;]*m")]
    private static partial Regex Colour();

    [Fact]
    public void The_environment_question_offers_once_and_always_both_ways_and_fits_80_columns()
    {
        var lines = Colour().Replace(PromptView.RenderEnvironment(["GITHUB_TOKEN", "SSH_AUTH_SOCK"], 120), "").TrimEnd('\n').Split('\n');
        var text = string.Join('\n', lines);
        Assert.Contains("y pass once", text, StringComparison.Ordinal);
        Assert.Contains("a always pass", text, StringComparison.Ordinal);
        Assert.Contains("n withhold once", text, StringComparison.Ordinal);
        Assert.Contains("d always withhold", text, StringComparison.Ordinal);
        Assert.All(lines, l => Assert.True(new StringInfo(l).LengthInTextElements <= 80, $"line wider than 80 columns: {l}"));
    }

    [Theory]
    [InlineData('y', EnvironmentAnswer.PassOnce)]
    [InlineData('a', EnvironmentAnswer.PassAlways)]
    [InlineData('n', EnvironmentAnswer.WithholdOnce)]
    [InlineData('d', EnvironmentAnswer.WithholdAlways)]
    [InlineData('\x03', EnvironmentAnswer.WithholdOnce)]
    public void Each_key_gives_its_answer(char key, EnvironmentAnswer answer) => Assert.Equal(answer, PromptView.EnvironmentAnswerOf((byte)key));

    [Theory]
    [InlineData('Y')]
    [InlineData('A')]
    [InlineData('f')]
    [InlineData('\r')]
    public void Other_keys_answer_nothing(char key) => Assert.Null(PromptView.EnvironmentAnswerOf((byte)key));
}
