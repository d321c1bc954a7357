using System.Text.RegularExpressions;
using Cordon.Policy;
using Xunit;

namespace Cordon.Terminal.Tests;

public partial class GuardPromptTests
{
    [GeneratedRegex("\x1b\\[[0-9;]*m")]
    private static partial Regex Colour();

    private static string Render(AccessKind kind, Operation op, string resource)
    {
        var subject = new Subject(new ProcessSummary(4242, "/usr/bin/node", ["node", "install.js"]), 4242, [], _ => true);
        var guarded = kind == AccessKind.Write ? new OutsideCodeGuard("/home/u").Find(resource)?.What : null; // as Policy asks
        return Colour().Replace(PromptView.Render(new PromptQuestion(new Request(kind, op, resource, null, subject), null, Guarded: guarded), 100), "");
    }

    [Fact]
    public void A_question_about_a_guarded_name_says_why_it_is_asked()
    {
        var text = Render(AccessKind.Write, Operation.Create, "/home/u/project/.git/hooks/pre-commit");
        Assert.Contains("guard", text, StringComparison.Ordinal);
        Assert.Contains("code that runs outside the sandbox: git hooks", text, StringComparison.Ordinal);
        Assert.DoesNotContain("f folder", text, StringComparison.Ordinal);
        Assert.DoesNotContain("outside the sandbox", Render(AccessKind.Write, Operation.Create, "/home/u/project/src/main.c"), StringComparison.Ordinal);
        Assert.DoesNotContain("outside the sandbox", Render(AccessKind.Read, Operation.Read, "/home/u/project/.git/config"), StringComparison.Ordinal);
        Assert.Contains("code that runs outside the sandbox: git settings", Render(AccessKind.Write, Operation.Rename, "/home/u/.gitconfig"), StringComparison.Ordinal);
        Assert.Contains("code that runs outside the sandbox: programs on your PATH", Render(AccessKind.Write, Operation.Create, "/home/u/.local/bin/git"), StringComparison.Ordinal);
    }
}
