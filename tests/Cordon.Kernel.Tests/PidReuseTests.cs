using Xunit;

namespace Cordon.Kernel.Tests;

/// <summary>
/// cordon keeps an exec's approval until the process's next trapped call, to check that it runs what was decided
/// (Supervisor.Exec.cs). Under the view most programs make no trapped call after their exec, and pids are reused
/// (32,768 of them on many machines), so a later process with the same pid must not be taken for the one approved.
/// The run happens in a pid namespace of its own with a small pid_max (Linux 6.14 and later), so that the pids
/// wrap within a few hundred processes.
/// </summary>
public sealed class PidReuseTests : IDisposable
{
    private readonly Sandboxed s = new();

    public void Dispose() => s.Dispose();

    [Fact]
    public void A_start_time_is_read_after_the_command_name_whatever_it_holds()
    {
        var line = "4242 (a) b (c) d) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654321 1000 100 18446744073709551615\n"u8;
        Assert.Equal(987654321ul, Supervisor.ProcFs.ParseStartTime(line));
        Assert.Null(Supervisor.ProcFs.ParseStartTime("4242 (a) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 98765"u8)); // cut short
        Assert.Null(Supervisor.ProcFs.ParseStartTime("no name here"u8));
        var own = Supervisor.ProcFs.StartTime(Environment.ProcessId);
        Assert.NotNull(own);
        Assert.Equal(own, Supervisor.ProcFs.StartTime(Environment.ProcessId));
        Assert.Null(Supervisor.ProcFs.StartTime(int.MaxValue));
    }

    [Fact]
    public void A_threads_process_is_its_leaders_pid()
    {
        int pid = Environment.ProcessId;
        Assert.Equal(pid, Supervisor.ProcFs.Tgid(pid));
        int tid = 0;
        using var started = new ManualResetEventSlim();
        using var done = new ManualResetEventSlim();
        var thread = new Thread(() =>
        {
            tid = (int)Interop.Libc.Syscall(186 /* gettid, x86_64 */, 0, 0, 0);
            started.Set();
            done.Wait();
        });
        thread.Start();
        started.Wait();
        try
        {
            Assert.NotEqual(pid, tid);
            Assert.Equal(pid, Supervisor.ProcFs.Tgid(tid)); // not a leader: read from its status
        }
        finally
        {
            done.Set();
            thread.Join();
        }
    }

    [Fact]
    public void A_process_that_gets_the_pid_of_an_exec_approved_earlier_is_not_killed()
    {
        // Each `env /bin/true` leaves an approval for true, whose process makes no trapped call; after the wrap, a
        // child of the shell (still the shell's image) gets the same pid and execs: it must simply run. /usr is
        // named by a rule so that it is bound also where cordon is root in the namespace.
        string loop = "n=0; for i in $(seq 900); do env /bin/true || n=$((n+1)); done; echo failed=$n";
        string inner = $"echo 700 > /proc/sys/kernel/pid_max || exit 98; exec {Sandboxed.CordonShell} run --engine view --no-prompt --allow-read=/usr -- /bin/sh -c '{loop}'";
        var r = s.Bare("unshare", "--user", "--map-root-user", "--pid", "--fork", "--mount-proc", "/bin/sh", "-c", inner);
        Assert.True(r.ExitCode != 98, "this kernel has no pid_max of a pid namespace's own (Linux 6.14): " + r);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("failed=0", r.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("killed pid", r.Stderr, StringComparison.Ordinal);
    }
}
