using Xunit;

namespace Cordon.Kernel.Tests;

/// <summary>
/// Attacks through a person's answers, in a real terminal: a broad-sounding answer to an innocent question must not
/// open a credentials place. Each test answers one key, then the program reaches for the secret: that read must be
/// asked about (and is denied here), never allowed silently.
/// </summary>
public sealed class AnswerTests : IDisposable
{
    private readonly Sandboxed s = new();

    public void Dispose() => s.Dispose();

    /// <summary>Waits for the question about the secret, denies it, and checks the secret stayed in.</summary>
    private void SecretIsAskedAndDenied(Tmux t, string secret = ".ssh/id_rsa")
    {
        var screen = t.WaitFor("wants to read", 30);
        Assert.Contains(secret, screen, StringComparison.Ordinal);
        t.Keys("n");
        Assert.Equal(0, t.ExitCode());
        var history = t.History();
        Assert.Contains("secret-status=1", history, StringComparison.Ordinal);
        Assert.DoesNotContain(s.Marker, history, StringComparison.Ordinal);
    }

    [Fact]
    public void Always_on_listing_the_home_does_not_open_the_files_in_it()
    {
        using var t = new Tmux(s, Tmux.Cordon("run --no-save -- sh -c 'ls -a ~ >/dev/null; ls -a ~ >/dev/null; echo listed; head ~/.ssh/id_rsa; echo secret-status=$?'"));
        var screen = t.WaitFor("wants to list");
        Assert.Contains(s.Home, screen, StringComparison.Ordinal);
        Assert.DoesNotContain("f folder", screen, StringComparison.Ordinal);
        t.Keys("a");
        t.WaitFor("listed"); // the second listing was not asked again
        SecretIsAskedAndDenied(t);
    }

    [Fact]
    public void Always_on_listing_the_home_is_saved_as_the_listing_alone()
    {
        using (var t = new Tmux(s, Tmux.Cordon("run --profile lister -- ls -a ~")))
        {
            t.WaitFor("wants to list");
            t.Keys("a");
            Assert.Equal(0, t.ExitCode());
        }

        var profile = File.ReadAllText(Path.Combine(s.Home, ".config", "cordon", "profiles", "lister.yaml"));
        Assert.Contains("only:", profile, StringComparison.Ordinal);

        // The next run lists the home without a question, and the saved answer does not reach the key.
        var r = s.Cordon("run", "--profile", "lister", "--", "sh", "-c", "ls -a ~; cat ~/.ssh/id_rsa; echo secret-status=$?");
        Assert.Contains(".ssh", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("secret-status=1", r.Stdout, StringComparison.Ordinal);
        s.AssertNoSecret(r);
    }

    [Fact]
    public void All_reads_at_an_npmrc_question_does_not_cover_the_ssh_key()
    {
        File.WriteAllText(Path.Combine(s.Home, ".npmrc"), "registry=https://registry.npmjs.org/\n");
        File.WriteAllText(Path.Combine(s.Home, "notes.txt"), "notes-content\n");
        using var t = new Tmux(s, Tmux.Cordon("run -- sh -c 'cat ~/.npmrc >/dev/null; cat ~/notes.txt; head ~/.ssh/id_rsa; echo secret-status=$?'"));
        var screen = t.WaitFor("wants to read");
        Assert.Contains(".npmrc", screen, StringComparison.Ordinal);
        t.Keys("A");
        t.WaitFor("notes-content"); // all reads: an ordinary file is not asked about
        SecretIsAskedAndDenied(t);
    }

    [Fact]
    public void All_reads_at_a_listing_does_not_cover_the_ssh_key()
    {
        using var t = new Tmux(s, Tmux.Cordon("run -- sh -c 'ls ~ >/dev/null; head ~/.ssh/id_rsa; echo secret-status=$?'"));
        t.WaitFor("wants to list");
        t.Keys("A");
        SecretIsAskedAndDenied(t);
    }

    [Fact]
    public void The_folder_offered_inside_config_is_never_config_itself()
    {
        var procps = Path.Combine(s.Home, ".config", "procps");
        Directory.CreateDirectory(procps);
        File.WriteAllText(Path.Combine(procps, "toprc"), "top-settings\n");
        Directory.CreateDirectory(Path.Combine(s.Home, ".config", "gh"));
        File.WriteAllText(Path.Combine(s.Home, ".config", "gh", "hosts.yml"), "oauth_token: GH-" + s.Marker + "\n");
        using var t = new Tmux(s, Tmux.Cordon("run --no-save -- sh -c 'ls ~/.config/procps >/dev/null; cat ~/.config/procps/toprc; cat ~/.config/gh/hosts.yml; echo secret-status=$?'"));
        var screen = t.WaitFor("wants to list");
        Assert.Contains("f folder " + procps, screen, StringComparison.Ordinal);
        t.Keys("f");
        t.WaitFor("top-settings");
        SecretIsAskedAndDenied(t, "gh/hosts.yml");
    }

    [Fact]
    public void Allow_once_on_listing_the_home_lets_nothing_else_through()
    {
        using var t = new Tmux(s, Tmux.Cordon("run -- sh -c 'ls ~ >/dev/null; head ~/.ssh/id_rsa; echo secret-status=$?'"));
        t.WaitFor("wants to list");
        t.Keys("y");
        SecretIsAskedAndDenied(t);
    }
}
