using Xunit;

namespace Cordon.Kernel.Tests;

/// <summary>
/// Learn mode writes a profile you can commit: it holds what the run's starting rules allowed too (self-contained),
/// its paths are "./" and "~/" (portable), and replaying the same run with it alone and --no-prompt succeeds.
/// </summary>
public sealed class LearnTests : IDisposable
{
    private readonly Sandboxed s = new();

    public void Dispose() => s.Dispose();

    private const string Job = "cat package.json; cat src/index.js; cat ~/.toolrc; echo built > out.txt; echo job-done";

    private void Project(Sandboxed where)
    {
        where.WorkFile("package.json", "{\"name\":\"proj\"}\n");
        where.WorkFile("src/index.js", "console.log('hi')\n");
        File.WriteAllText(Path.Combine(where.Home, ".toolrc"), "tool-settings\n");
    }

    [Fact]
    public void A_learned_profile_includes_what_the_programs_saved_profile_allowed_and_replays_alone()
    {
        Project(s);

        // The program's saved profile ("sh", as cordon names it for `-- sh ...`) already allows the package file.
        var saved = Path.Combine(s.Home, ".config", "cordon", "profiles");
        Directory.CreateDirectory(saved);
        File.WriteAllText(Path.Combine(saved, "sh.yaml"), $"read: {{ allow: [\"{Path.Combine(s.Work, "package.json")}\"] }}\n");

        var learn = s.Cordon("run", "--learn", "prof.yaml", "--", "sh", "-c", Job);
        Assert.True(learn.ExitCode == 0, learn.ToString());
        var profile = File.ReadAllText(Path.Combine(s.Work, "prof.yaml"));
        Assert.DoesNotContain(s.Work, profile, StringComparison.Ordinal);
        Assert.DoesNotContain(s.Home, profile, StringComparison.Ordinal);
        Assert.Contains("\"~/.toolrc\"", profile, StringComparison.Ordinal);
        Assert.Contains("\".", profile, StringComparison.Ordinal);

        File.Delete(Path.Combine(s.Work, "out.txt"));
        var replay = s.Cordon("run", "--profile", "./prof.yaml", "--no-prompt", "--", "sh", "-c", Job);
        Assert.True(replay.ExitCode == 0, replay + "\n--- profile ---\n" + profile);
        Assert.Contains("proj", replay.Stdout, StringComparison.Ordinal);
        Assert.Contains("tool-settings", replay.Stdout, StringComparison.Ordinal);
        Assert.Contains("job-done", replay.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("denied", replay.Stderr, StringComparison.Ordinal);
        Assert.Equal("built\n", File.ReadAllText(Path.Combine(s.Work, "out.txt")));

        // Portable: the same file works in another checkout, for another home.
        using var other = new Sandboxed();
        Project(other);
        File.Copy(Path.Combine(s.Work, "prof.yaml"), Path.Combine(other.Work, "prof.yaml"));
        var elsewhere = other.Cordon("run", "--profile", "./prof.yaml", "--no-prompt", "--", "sh", "-c", Job);
        Assert.True(elsewhere.ExitCode == 0, elsewhere + "\n--- profile ---\n" + profile);
        Assert.Contains("tool-settings", elsewhere.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("denied", elsewhere.Stderr, StringComparison.Ordinal);

        // And it opens nothing it did not learn.
        var ssh = other.Cordon("run", "--profile", "./prof.yaml", "--no-prompt", "--", "cat", other.Secret);
        Assert.NotEqual(0, ssh.ExitCode);
        other.AssertNoSecret(ssh);
    }

    [Fact]
    public void Learning_into_the_profile_the_run_starts_from_works_when_it_does_not_exist_yet()
    {
        Project(s);
        var learn = s.Cordon("run", "--learn", "p.yaml", "--profile", "./p.yaml", "--", "sh", "-c", Job);
        Assert.True(learn.ExitCode == 0, learn.ToString());
        Assert.Contains("job-done", learn.Stdout, StringComparison.Ordinal);

        // Learning again adds nothing: the file already replays the run.
        var again = s.Cordon("run", "--learn", "p.yaml", "--profile", "./p.yaml", "--", "sh", "-c", Job);
        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Contains("nothing new", again.Stderr, StringComparison.Ordinal);

        var replay = s.Cordon("run", "--profile", "./p.yaml", "--no-prompt", "--", "sh", "-c", Job);
        Assert.True(replay.ExitCode == 0, replay.ToString());
        Assert.DoesNotContain("denied", replay.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void A_listing_of_the_home_is_learned_as_that_listing_alone()
    {
        var learn = s.Cordon("run", "--learn", "p.yaml", "--", "ls", "-a", s.Home);
        Assert.True(learn.ExitCode == 0, learn.ToString());
        var profile = File.ReadAllText(Path.Combine(s.Work, "p.yaml"));
        Assert.Contains("\"only:~\"", profile, StringComparison.Ordinal);
        Assert.DoesNotContain("\"~\"", profile, StringComparison.Ordinal);

        var ssh = s.Cordon("run", "--profile", "./p.yaml", "--no-prompt", "--", "sh", "-c", $"ls -a {s.Home}; cat {s.Secret}");
        Assert.Contains(".ssh", ssh.Stdout, StringComparison.Ordinal);
        Assert.NotEqual(0, ssh.ExitCode);
        s.AssertNoSecret(ssh);
    }
}
