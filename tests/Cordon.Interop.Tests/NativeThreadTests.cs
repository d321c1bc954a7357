using Cordon.Interop;
using Xunit;

namespace Cordon.Interop.Tests;

/// <summary>Threads of pthread_create that run managed code (ReadyThreads' notification loops and mirror readers).</summary>
public class NativeThreadTests
{
    [Fact]
    public async Task The_body_runs_on_a_thread_of_its_own_with_the_name_given_and_start_does_not_wait_for_it()
    {
        using var go = new ManualResetEventSlim();
        int mine = Environment.CurrentManagedThreadId; // before the await: its continuation may run on any thread
        var done = new TaskCompletionSource<(int Tid, string Comm)>(TaskCreationOptions.RunContinuationsAsynchronously);
        NativeThread.Start("cordon-test-thr", () =>
        {
            go.Wait(); // runs only once Start has returned: Start does not wait for the thread
            int tid = Environment.CurrentManagedThreadId; // the runtime has taken the thread on
            string comm = File.ReadAllText($"/proc/thread-self/comm").TrimEnd('\n');
            done.SetResult((tid, comm));
        });
        go.Set();
        var (tid, comm) = await done.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.NotEqual(mine, tid);
        Assert.Equal("cordon-test-thr", comm);
    }

    [Fact]
    public async Task A_long_name_is_cut_to_what_the_kernel_keeps()
    {
        var done = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        NativeThread.Start("cordon-a-name-longer-than-fifteen", () => done.SetResult(File.ReadAllText("/proc/thread-self/comm").TrimEnd('\n')));
        Assert.Equal("cordon-a-name-l", await done.Task.WaitAsync(TimeSpan.FromSeconds(10)));
    }
}
