using System.Diagnostics;
using System.Text.RegularExpressions;
using Xunit;

namespace Cordon.Kernel.Tests;

/// <summary>How many questions ordinary work takes, in a real terminal: the same request again, siblings across folders.</summary>
public sealed partial class QuestionCountTests : IDisposable
{
    private readonly Sandboxed s = new();

    public void Dispose() => s.Dispose();

    [GeneratedRegex(@"cordon: (allowed|denied) (once|from now on|the folder|all)")]
    private static partial Regex Answered();

    /// <summary>Answers every question with <paramref name="key"/>'s choice until cordon exits; returns the questions.</summary>
    private static List<string> AnswerAll(Tmux t, Func<string, string> key)
    {
        var questions = new List<string>();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (t.Finished() is null && DateTime.UtcNow < deadline)
        {
            var history = t.History();
            int lastBox = history.LastIndexOf("wants to", StringComparison.Ordinal);
            int lastAnswer = history.LastIndexOf("cordon: allowed", StringComparison.Ordinal);
            lastAnswer = Math.Max(lastAnswer, history.LastIndexOf("cordon: denied", StringComparison.Ordinal));
            if (lastBox > lastAnswer && history.IndexOf('╰', lastBox) > 0)
            {
                var box = history[lastBox..history.IndexOf('╰', lastBox)];
                int answered = Answered().Count(history);
                questions.Add(box);
                t.Keys(key(box));
                var waitUntil = DateTime.UtcNow + TimeSpan.FromSeconds(20);
                while (Answered().Count(t.History()) == answered && DateTime.UtcNow < waitUntil)
                {
                    Thread.Sleep(50);
                }

                continue;
            }

            Thread.Sleep(100);
        }

        Assert.True(t.Finished() is not null, "cordon did not finish:\n" + t.History());
        return questions;
    }

    [Fact]
    public void The_same_read_by_one_process_four_times_in_a_row_is_one_question()
    {
        File.WriteAllText(Path.Combine(s.Home, "notes.txt"), "notes-content\n");

        // The shell opens the file itself for each redirection: one process, four identical opens (vim and ".").
        using var t = new Tmux(s, Tmux.Cordon("run -- sh -c 'for i in 1 2 3 4; do read l < ~/notes.txt; echo \"got $l\"; done'"));
        var questions = AnswerAll(t, _ => "y");
        Assert.Equal(0, t.ExitCode());
        Assert.True(questions.Count == 1, $"{questions.Count} questions:\n{t.History()}");
        Assert.Equal(4, Regex.Count(t.History(), "got notes-content"));
    }

    [Fact]
    public void Reading_the_stat_of_many_processes_folds_into_one_pattern_question()
    {
        // Processes outside the sandbox, as top sees them: /proc/N/stat differs in one component only. (The view
        // engine has a pid namespace of its own, where top sees the sandbox's processes alone and nothing is asked:
        // ViewEscapeTests.)
        var outside = Enumerable.Range(0, 8).Select(_ => Process.Start("sleep", "120")).ToList();
        try
        {
            var pids = string.Join(' ', outside.Select(p => p.Id));
            using var t = new Tmux(s, Tmux.Cordon($"run --engine seccomp -- sh -c 'n=0; for p in {pids}; do cat /proc/$p/stat >/dev/null && n=$((n+1)); done; echo \"read $n\"'"), rows: 40);
            var questions = AnswerAll(t, box => box.Contains("f all /proc/*/stat", StringComparison.Ordinal) ? "f" : "y");
            Assert.Equal(0, t.ExitCode());
            Assert.True(questions.Count == 3, $"{questions.Count} questions:\n{t.History()}");
            Assert.Contains("/proc/*/stat", questions[2], StringComparison.Ordinal);
            Assert.Contains("read 8", t.History(), StringComparison.Ordinal);
        }
        finally
        {
            foreach (var p in outside)
            {
                p.Kill();
                p.Dispose();
            }
        }
    }
}

/// <summary>A denial the user chose is not news: no line for it, while cordon's own denials are still reported.</summary>
public sealed class ChosenDenialTests : IDisposable
{
    private readonly Sandboxed s = new();

    public void Dispose() => s.Dispose();

    [Fact]
    public void A_deny_flag_or_a_saved_deny_prints_no_denial_line()
    {
        var other = Path.Combine(s.Home, "other.txt");
        File.WriteAllText(other, "other\n");
        var r = s.Cordon("run", "--no-prompt", "--deny-read=~/.ssh", "--", "sh", "-c", $"cat {s.Secret}; cat {other}; true");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.DoesNotContain("cordon: denied read of " + s.Secret, r.Stderr, StringComparison.Ordinal);
        Assert.Contains("Permission denied", r.Stderr, StringComparison.Ordinal); // the program still hears it
        Assert.Contains($"cordon: denied read of {other}", r.Stderr, StringComparison.Ordinal); // no rule chose this one
        s.AssertNoSecret(r);

        var profiles = Path.Combine(s.Home, ".config", "cordon", "profiles");
        Directory.CreateDirectory(profiles);
        File.WriteAllText(Path.Combine(profiles, "cat.yaml"), "read: { deny: [\"~/.ssh\"] }\n");
        var saved = s.Cordon("run", "--no-prompt", "--", "cat", s.Secret);
        Assert.NotEqual(0, saved.ExitCode);
        // No line for the resource; the closing summary (issue 18.6) still counts it, so that CI sees every denial.
        Assert.DoesNotContain("cordon: denied read of", saved.Stderr, StringComparison.Ordinal);
        Assert.Contains("cordon: denied 1 request for 1 resource", saved.Stderr, StringComparison.Ordinal);
        s.AssertNoSecret(saved);
    }
}

/// <summary>The DNS server is named as what it is, not shown as a bare address.</summary>
public sealed class DnsServerNameTests : IDisposable
{
    private readonly Sandboxed s = new();

    public void Dispose() => s.Dispose();

    [Fact]
    public void A_lookup_says_it_goes_to_the_systems_dns_server()
    {
        var servers = Cordon.Supervisor.SystemResolvers.Parse(File.Exists("/etc/resolv.conf") ? File.ReadAllText("/etc/resolv.conf") : null);
        var r = s.Cordon("run", "--no-prompt", "--", "getent", "hosts", "cordon-lookup.example");
        Assert.NotEqual(0, r.ExitCode);
        var line = r.Stderr.Split('\n').FirstOrDefault(l => l.Contains(":53", StringComparison.Ordinal)) ?? "";
        Assert.Contains("the system's DNS server (", line, StringComparison.Ordinal);
        Assert.Contains(servers.Select(a => a.ToString()), a => line.Contains(a + ":53)", StringComparison.Ordinal) || line.Contains("[" + a + "]:53)", StringComparison.Ordinal));
        Assert.Contains("to allow it: --allow-net=dns", line, StringComparison.Ordinal); // a flag that holds on any network
    }

    [Fact]
    public void Allowing_dns_lets_the_lookup_reach_the_systems_server_from_a_flag_or_a_profile()
    {
        var flag = s.Cordon("run", "--no-prompt", "--allow-net=dns", "--", "getent", "hosts", "cordon-lookup.example");
        Assert.DoesNotContain(":53", flag.Stderr, StringComparison.Ordinal); // nothing denied: the query left (NXDOMAIN or no answer)
        var profile = Path.Combine(s.Work, "dns.yaml");
        File.WriteAllText(profile, "net: { allow: [dns] }\n");
        var fromProfile = s.Cordon("run", "--no-prompt", "--profile", profile, "--", "getent", "hosts", "cordon-lookup.example");
        Assert.DoesNotContain(":53", fromProfile.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("denied", fromProfile.Stderr, StringComparison.Ordinal);
    }
}

/// <summary>A dev server on a random port: one answer covers every local port it listens on.</summary>
public sealed class LocalListenTests : IDisposable
{
    private readonly Sandboxed s = new();

    public void Dispose() => s.Dispose();

    [Fact]
    public void Listening_on_random_local_ports_is_one_question()
    {
        const string listen = "node -e \"const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log('listening');s.close()})\"";
        using var t = new Tmux(s, Tmux.Cordon($"run --no-save -- sh -c '{listen.Replace("'", "'\\''")}; {listen.Replace("'", "'\\''")}; echo both-done'"));
        var screen = t.WaitFor("wants to listen on");
        Assert.Contains("f localhost:*", screen, StringComparison.Ordinal);
        t.Keys("f");
        t.WaitFor("both-done");
        Assert.Equal(0, t.ExitCode());
        var history = t.History();
        // The box is erased after the answer; its outcome line stays in the history, one per question.
        Assert.True(System.Text.RegularExpressions.Regex.Count(history, "cordon: (allowed|denied) (once|from now on|the folder|all)") == 1, history);
        Assert.Equal(2, System.Text.RegularExpressions.Regex.Count(history, @"(?m)^listening\s*$"));
    }
}
