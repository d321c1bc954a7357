using System.Text.Json;
using Cordon.Cli;
using Xunit;

namespace Cordon.Kernel.Tests;

/// <summary>`cordon log`: the report itself (no kernel), and a real run's log read back.</summary>
public sealed class LogReportTests : IDisposable
{
    private readonly Sandboxed s = new();

    public void Dispose() => s.Dispose();

    private static AuditRecord Rec(string perm, string value, string verdict, string source, string rule, string? requested = null) =>
        new(1, "2026-11-23T05:40:12.031+00:00", perm, value, perm, requested, verdict, source, rule, 42, "/usr/bin/node", ["node"]);

    private static List<AuditRecord> Install()
    {
        var records = new List<AuditRecord>();
        for (int i = 0; i < 3000; i++)
        {
            records.Add(Rec("read", $"/usr/lib/node_modules/npm/file{i}.js", "allow", "base", "base: system files /usr"));
        }

        for (int i = 0; i < 300; i++)
        {
            records.Add(Rec("read", $"/home/me/project/node_modules/pkg/f{i}.js", "allow", "flag", "--allow-read=/home/me/project"));
        }

        records.Add(Rec("net", "registry.npmjs.org:443 (104.16.1.34)", "allow", "prompt", "allowed once"));
        records.Add(Rec("read", "/home/me/project/package.json", "allow", "flag", "--allow-read=/home/me/project", "package.json"));
        records.Add(Rec("read", "/home/me/.ssh/id_rsa", "deny", "default", "no rule allows it and nobody can be asked"));
        records.Add(Rec("read", "/home/me/.ssh/id_rsa", "deny", "default", "no rule allows it and nobody can be asked"));
        records.Add(Rec("net", "evil.example, collect.example:8443 (203.0.113.9)", "deny", "default", "no rule allows it and nobody can be asked"));
        records.Add(Rec("read", "/home/me/" + new string('x', 300), "deny", "default", "no rule allows it and nobody can be asked"));
        return records;
    }

    [Fact]
    public void The_summary_comes_first_then_every_denial_then_the_rules_that_allowed_the_rest_in_the_width()
    {
        var lines = LogReport.Summary(Install(), 0, 80, all: false).ToList();
        Assert.StartsWith("3,306 decisions: 3,302 allowed, 4 denied (3 resources)", lines[0], StringComparison.Ordinal);
        Assert.True(lines.Count < 20, string.Join('\n', lines));
        Assert.All(lines, l => Assert.True(l.Length <= 80, $"{l.Length} columns: {l}"));
        int denied = lines.IndexOf("denied:");
        int allowed = lines.IndexOf("allowed, by rule:");
        Assert.True(denied > 0 && allowed > denied, string.Join('\n', lines));
        Assert.Contains(lines, l => l.Contains("/home/me/.ssh/id_rsa", StringComparison.Ordinal) && l.Contains(" 2 ", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("3,000", StringComparison.Ordinal) && l.Contains("base: system files /usr", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains("base: base:", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("flag: --allow-read=/home/me/project", StringComparison.Ordinal));
    }

    [Fact]
    public void All_lists_every_resource_denials_first()
    {
        var lines = LogReport.Summary(Install(), 0, 120, all: true).ToList();
        Assert.True(lines.Count > 3000);
        Assert.StartsWith("deny", lines[2], StringComparison.Ordinal);
        Assert.All(lines, l => Assert.True(l.Length <= 120, l));
    }

    [Theory]
    [InlineData("registry.npmjs.org", 1)]
    [InlineData("registry.npmjs.org:443", 1)]
    [InlineData("REGISTRY.npmjs.org", 1)]
    [InlineData("104.16.1.34", 1)]
    [InlineData("104.16.1.34:443", 1)]
    [InlineData("collect.example", 1)]
    [InlineData("evil.example", 1)]
    [InlineData("evil.example:8443", 1)]
    [InlineData("npmjs.org", 0)]
    [InlineData("package.json", 1)]
    [InlineData("./package.json", 1)]
    [InlineData("~/.ssh/id_rsa", 2)]
    [InlineData("../.ssh", 2)]
    [InlineData("node_modules/pkg", 300)]
    [InlineData("/home/me/.ssh/id_rsa", 2)]
    [InlineData("nothing.here", 0)]
    public void Why_finds_host_names_addresses_relative_paths_and_folders(string query, int count) =>
        Assert.Equal(count, LogReport.Why(Install(), query, "/home/me/project", "/home/me").Count);

    [Fact]
    public void A_real_runs_log_reads_back_with_plain_json_and_relative_why()
    {
        s.WorkFile("package.json", "{}\n");
        var log = Path.Combine(s.Root, "audit.jsonl");
        var r = s.Cordon("run", "--no-prompt", "--log", log, "--allow-read=" + s.Work, "--", "sh", "-c", $"cat package.json; cat {s.Secret}; true");
        Assert.True(r.ExitCode == 0, r.ToString());
        var text = File.ReadAllText(log);
        Assert.DoesNotContain("\\u002B", text, StringComparison.Ordinal);
        var datetime = JsonDocument.Parse(text.Split('\n')[0]).RootElement.GetProperty("datetime").GetString()!;
        Assert.Contains(datetime, text, StringComparison.Ordinal); // written as it reads

        var summary = s.Cordon("log", log);
        Assert.True(summary.ExitCode == 0, summary.ToString());
        var lines = summary.Stdout.Split('\n');
        Assert.Matches("^[0-9,]+ decisions: [0-9,]+ allowed, 1 denied \\(1 resource\\)$", lines[0]);
        Assert.Equal("denied:", lines[2]);
        Assert.Contains(s.Secret, lines[3], StringComparison.Ordinal);
        Assert.DoesNotContain("base: base:", summary.Stdout, StringComparison.Ordinal);
        Assert.All(lines, l => Assert.True(l.Length <= 100, l));

        var why = s.Cordon("log", log, "--why", "package.json");
        Assert.True(why.ExitCode == 0, why.ToString());
        Assert.Contains("allow (flag: --allow-read=" + s.Work, why.Stdout, StringComparison.Ordinal);
        Assert.Contains(Path.Combine(s.Work, "package.json"), why.Stdout, StringComparison.Ordinal);
    }
}
