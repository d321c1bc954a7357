using Xunit;

namespace Cordon.Kernel.Tests;

/// <summary>
/// Secret-looking variables never reach a real program's environment: by name (substrings, words, any case) and by
/// value (URL credentials, connection strings, auth headers). Each variable carries the planted marker, which must
/// not come out; the harmless ones beside them must arrive unchanged.
/// </summary>
public sealed class EnvironmentTests : IDisposable
{
    private readonly Sandboxed s = new();

    public void Dispose() => s.Dispose();

    private Dictionary<string, string> Planted() => new()
    {
        ["GH_PAT"] = s.Marker,
        ["pgpassword"] = s.Marker,
        ["npm_config_//registry.npmjs.org/:_authToken"] = s.Marker,
        ["CI_JOB_JWT"] = s.Marker,
        ["SLACK_WEBHOOK_URL"] = "https://hooks.slack.com/services/" + s.Marker,
        ["PIP_INDEX_URL"] = $"https://build:{s.Marker}@pypi.corp.example/simple",
        ["HTTPS_PROXY"] = $"http://me:{s.Marker}@proxy.corp.example:3128",
        ["JDBC_URL"] = $"jdbc:postgresql://db/app?user=app&password={s.Marker}",
        ["GIT_CONFIG_PARAMETERS"] = $"'http.extraHeader=Authorization: Bearer {s.Marker}'",
        ["HARMLESS_PROXY"] = "http://proxy.corp.example:3128",
        ["XDG_SESSION_TYPE"] = "tty",
    };

    [Fact]
    public void Secret_names_and_values_with_credentials_do_not_reach_the_program()
    {
        var r = s.Cordon(["run", "--no-prompt", "--", "env"], Planted());
        Assert.True(r.ExitCode == 0, r.ToString());
        s.AssertNoSecret(r);
        Assert.Contains("HARMLESS_PROXY=http://proxy.corp.example:3128\n", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("XDG_SESSION_TYPE=tty\n", r.Stdout, StringComparison.Ordinal);
        foreach (var name in new[] { "GH_PAT", "pgpassword", "PIP_INDEX_URL", "HTTPS_PROXY", "JDBC_URL", "GIT_CONFIG_PARAMETERS" })
        {
            Assert.DoesNotContain(name + "=", r.Stdout, StringComparison.Ordinal);
            Assert.Contains(name, r.Stderr, StringComparison.Ordinal); // named in the "withheld" line
        }
    }

    [Fact]
    public void A_shell_reading_the_variables_gets_nothing_and_allow_env_passes_exactly_the_named_one()
    {
        const string script = "printf '%s|%s|%s\\n' \"$GH_PAT\" \"$PIP_INDEX_URL\" \"$HTTPS_PROXY\"";
        var r = s.Cordon(["run", "--no-prompt", "--", "sh", "-c", script], Planted());
        Assert.True(r.ExitCode == 0, r.ToString());
        s.AssertNoSecret(r);
        Assert.Equal("||\n", r.Stdout);

        // The same run with one variable allowed: the check above can see a leak.
        r = s.Cordon(["run", "--no-prompt", "--allow-env=PIP_INDEX_URL", "--", "sh", "-c", script], Planted());
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal($"|https://build:{s.Marker}@pypi.corp.example/simple|\n", r.Stdout);
    }

    // The launcher a run starts before cordon has read its command line (ParkedLauncher) is started with no
    // environment and given the program's, filtered, later: it never holds the user's own, secrets included.
    [Fact]
    public void The_launcher_started_early_never_holds_the_users_environment()
    {
        var seen = new List<string>();
        var r = s.Cordon(["run", "--no-prompt", "--", "sleep", "2"], Planted(), whileRunning: cordon =>
        {
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (seen.Count == 0 && DateTime.UtcNow < deadline && !cordon.HasExited)
            {
                foreach (var task in Directory.EnumerateDirectories($"/proc/{cordon.Id}/task"))
                {
                    foreach (var child in (ReadOrEmpty(Path.Combine(task, "children"))).Split(' ', StringSplitOptions.RemoveEmptyEntries))
                    {
                        if (ReadOrEmpty($"/proc/{child}/cmdline").StartsWith("cordon-launcher", StringComparison.Ordinal))
                        {
                            seen.Add(ReadOrEmpty($"/proc/{child}/environ"));
                        }
                    }
                }

                Thread.Sleep(20);
            }
        });
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.NotEmpty(seen);
        Assert.All(seen, environ => Assert.DoesNotContain(s.Marker, environ, StringComparison.Ordinal));
    }

    // The command line and environment go to that launcher in one packet; one too large for it (here 3 x 100 KB)
    // gets a launcher started with them, as before.
    [Fact]
    public void A_large_environment_reaches_the_program_whole()
    {
        var big = new string('x', 100_000);
        var env = new Dictionary<string, string> { ["CORDON_TEST_BIG1"] = big, ["CORDON_TEST_BIG2"] = big, ["CORDON_TEST_BIG3"] = big + "y" };
        var r = s.Cordon(["run", "--no-prompt", "--", "sh", "-c", "printf '%s %s %s' ${#CORDON_TEST_BIG1} ${#CORDON_TEST_BIG2} ${#CORDON_TEST_BIG3}"], env);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("100000 100000 100001", r.Stdout);
    }

    private static string ReadOrEmpty(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "";
        }
    }
}
