using Xunit;

namespace Cordon.Kernel.Tests;

/// <summary>
/// The view's start on a loaded machine. Two processes of the launcher talk to cordon on one socket while the view
/// is built: the outer launcher names the reaper ("reaper PID"), and the reaper says "ready" once the view, Landlock
/// and the filter are in place. Under load the reaper could speak first; cordon then failed the run and waited for
/// the outer launcher, which waited for the reaper, which waited for cordon: a run that hung at its start (seen in CI
/// and in 2 of 2,500 runs of five parallel loops). CORDON_TEST_REAPER_DELAY_MS holds the outer launcher back as such
/// a machine does.
/// </summary>
public sealed class ViewStartTests : IDisposable
{
    private readonly Sandboxed s = new();

    public void Dispose() => s.Dispose();

    [Fact]
    public void The_view_starts_when_the_reaper_is_ready_before_the_outer_launcher_names_it()
    {
        var env = new Dictionary<string, string> { ["CORDON_TEST_REAPER_DELAY_MS"] = "400" };
        var r = s.Cordon(["run", "--engine", "view", "--no-prompt", "--", "sh", "-c", "echo started"], env, TimeSpan.FromSeconds(60));
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("started\n", r.Stdout);
        Assert.Equal("", r.Stderr);
    }
}
