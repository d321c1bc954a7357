using Cordon.Policy;
using Xunit;

namespace Cordon.Policy.Tests;

public class EnvironmentUndecidedTests
{
    [Fact]
    public void Only_variables_no_rule_decided_are_left_to_ask_about()
    {
        var env = new Dictionary<string, string> { ["GITHUB_TOKEN"] = "t", ["DEPLOY_TOKEN"] = "d", ["NPM_TOKEN"] = "n", ["EDITOR"] = "vi" };
        var rules = new List<Rule>();
        rules.AddRange(FlagRules.Parse(AccessKind.Env, Verdict.Deny, "DEPLOY_TOKEN", new NoFiles()));
        rules.AddRange(FlagRules.Parse(AccessKind.Env, Verdict.Allow, "NPM_TOKEN", new NoFiles()));
        var r = EnvironmentFilter.Filter(env, rules);
        Assert.Equal(["DEPLOY_TOKEN", "GITHUB_TOKEN"], r.Withheld);
        Assert.Equal(["GITHUB_TOKEN"], r.Undecided);
        Assert.True(r.Passed.ContainsKey("NPM_TOKEN"));
    }

    private sealed class NoFiles : IPathResolver
    {
        public string Home => "/home/u";

        public string WorkingDirectory => "/home/u";

        public string Canonicalize(string absolutePath) => absolutePath;

        public string? FindProgram(string name) => null;
    }
}
