using Xunit;

namespace Cordon.Kernel.Tests;

/// <summary>
/// CI (issue 18.6): a run nobody answers ends with one line saying what cordon denied, and `--denied-exit=N` lets a
/// script tell from the status that something was denied. The default status stays the program's own.
/// </summary>
public sealed class DeniedSummaryTests : IDisposable
{
    private readonly Sandboxed s = new();

    public void Dispose() => s.Dispose();

    private string[] Readers(int count)
    {
        var names = new string[count];
        for (int i = 0; i < count; i++)
        {
            names[i] = Path.Combine(s.Home, $"private{i}.txt");
            File.WriteAllText(names[i], s.Marker + "\n");
        }

        return names;
    }

    [Fact]
    public void A_run_without_a_terminal_ends_with_a_summary_of_what_was_denied_and_keeps_the_programs_status()
    {
        var files = Readers(5);
        var r = s.Cordon("run", "--", "sh", "-c", $"cat {s.Secret}; cat {s.Secret}; for f in {string.Join(' ', files)}; do cat $f; done; exit 4");
        Assert.True(r.ExitCode == 4, r.ToString());
        var last = r.Stderr.TrimEnd('\n').Split('\n')[^1];
        Assert.Equal($"cordon: denied 7 requests for 6 resources: read of {s.Secret}, read of {files[0]}, read of {files[1]} and 3 more; the program's exit status was 4", last);
        Assert.DoesNotContain(s.Marker, r.All, StringComparison.Ordinal);
    }

    [Fact]
    public void Denied_exit_gives_its_status_when_something_was_denied_and_the_programs_otherwise()
    {
        var denied = s.Cordon("run", "--denied-exit=3", "--", "sh", "-c", $"cat {s.Secret} 2>/dev/null; exit 0");
        Assert.True(denied.ExitCode == 3, denied.ToString());
        Assert.Contains("the program's exit status was 0", denied.Stderr, StringComparison.Ordinal);

        var clean = s.Cordon("run", "--denied-exit", "3", "--", "sh", "-c", "exit 5");
        Assert.True(clean.ExitCode == 5, clean.ToString());
        Assert.DoesNotContain("cordon:", clean.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--denied-exit=0")]
    [InlineData("--denied-exit=126")]
    [InlineData("--denied-exit=x")]
    public void A_bad_denied_exit_value_exits_125_with_one_line(string flag)
    {
        var r = s.Cordon("run", flag, "--", "true");
        Assert.Equal(125, r.ExitCode);
        Assert.Single(r.Stderr.Trim().Split('\n'));
        Assert.StartsWith("cordon: ", r.Stderr, StringComparison.Ordinal);
    }
}

/// <summary>
/// A change the kernel would refuse the user anyway (a folder without write permission) is refused as the kernel
/// would: no question, no denial line, no summary, no --denied-exit; the audit log says "kernel". As root the kernel
/// allows it, so cordon's own rules decide and report it.
/// </summary>
public sealed class KernelRefusalTests : IDisposable
{
    private readonly Sandboxed s = new();

    public void Dispose() => s.Dispose();

    [Fact]
    public void A_write_the_user_may_not_make_is_refused_quietly_and_logged_as_the_kernels()
    {
        var locked = Path.Combine(s.Root, "locked");
        Directory.CreateDirectory(locked);
        File.WriteAllText(Path.Combine(locked, "old.txt"), "old\n");
        File.SetUnixFileMode(locked, UnixFileMode.UserRead | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        try
        {
            var log = Path.Combine(s.Work, "audit.jsonl");
            var r = s.Cordon("run", "--no-prompt", "--denied-exit=9", "--log", log, "--", "sh", "-c",
                $"mkdir {locked}/new; touch {locked}/new.txt; rm -f {locked}/old.txt; echo done");
            Assert.Contains("done", r.Stdout, StringComparison.Ordinal);
            Assert.False(Path.Exists(Path.Combine(locked, "new")), r.ToString());
            Assert.False(Path.Exists(Path.Combine(locked, "new.txt")), r.ToString());
            Assert.True(File.Exists(Path.Combine(locked, "old.txt")), r.ToString());
            var decisions = File.ReadAllText(log);
            if (Interop.Libc.GetEUid() != 0)
            {
                Assert.True(r.ExitCode == 0, r.ToString()); // nothing cordon denied: the program's own status
                Assert.DoesNotContain("cordon: denied", r.Stderr, StringComparison.Ordinal);
                Assert.Contains("Permission denied", r.Stderr, StringComparison.Ordinal);
                Assert.Contains("\"source\":\"kernel\"", decisions, StringComparison.Ordinal);
                Assert.DoesNotContain("\"source\":\"default\"", decisions, StringComparison.Ordinal);
            }
            else
            {
                // Root may write there: cordon's rules (no write rule) refuse and say so.
                Assert.True(r.ExitCode == 9, r.ToString());
                Assert.Contains($"cordon: denied creating {locked}/new", r.Stderr, StringComparison.Ordinal);
                Assert.DoesNotContain("\"source\":\"kernel\"", decisions, StringComparison.Ordinal);
            }
        }
        finally
        {
            File.SetUnixFileMode(locked, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }
}
