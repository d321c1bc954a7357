using System.Globalization;
using Xunit;

namespace Cordon.Kernel.Tests;

/// <summary>
/// Attacks on the processes cordon placed in or around the sandbox (the reaper, which is the program's parent and
/// holds cordon's control socket, and cordon itself), on other processes of the user, and privilege left behind in
/// files (tests/escape/reach.c). Each runs with the work directory granted, all of /proc readable (so that only
/// cordon's own protections stand in the way) and a secret in cordon's environment that cordon withholds; each
/// asserts the attack's verdict and that neither the planted file's secret nor the withheld variable comes out.
/// On the build before these protections (c2f3ef1) the reaper's environ, maps, fd, cwd and root, process_vm_readv,
/// PTRACE_SEIZE, pidfd_getfd, SIGSTOP/SIGKILL/SIGTERM to it, prlimit/setpriority/sched_setaffinity/ioprio_set of
/// any process of the user, chmod u+s and a setuid create got through for both users; as root also fanotify,
/// file capabilities, device nodes, chown to another user, TIOCCONS and address changes in the network namespace.
/// </summary>
[Collection(Heavy.Name)]
public sealed class ReachEscapeTests : IDisposable
{
    private const string WithheldName = "DEPLOY_TOKEN";

    private readonly Sandboxed s = new();

    public void Dispose() => s.Dispose();

    private static bool Root => Environment.UserName == "root";

    private RunResult Reach(params string[] args) => ReachWith([], args);

    private RunResult ReachWith(string[] flags, string[] args)
    {
        var r = s.Cordon(
            ["run", "--no-prompt", "--allow-read=" + s.Work, "--allow-write=" + s.Work, "--allow-read=/proc", .. flags, "--", ReachProgram.Path, .. args],
            new Dictionary<string, string> { [WithheldName] = s.Marker });
        s.AssertNoSecret(r);
        Assert.DoesNotContain("ESCAPED", r.Stdout, StringComparison.Ordinal);
        return r;
    }

    private static void Stopped(RunResult r) => Attacks.Stopped(r);

    [Theory]
    [InlineData("parent", "environ")]
    [InlineData("parent", "mem")]
    [InlineData("parent", "maps")]
    [InlineData("parent", "fd")]
    [InlineData("parent", "cwd")]
    [InlineData("parent", "root")]
    [InlineData("parent", "auxv")]
    [InlineData("cordon", "environ")]
    [InlineData("cordon", "mem")]
    [InlineData("cordon", "maps")]
    [InlineData("cordon", "fd")]
    [InlineData("cordon", "cwd")]
    public void Proc_entries_of_cordons_own_processes_are_refused_even_with_proc_granted(string who, string entry) =>
        Stopped(Reach("proc", who, entry));

    [Fact]
    public void The_reapers_command_line_holds_nothing_secret()
    {
        var r = Reach("proc", "parent", "cmdline");
        Stopped(r);
        Assert.DoesNotContain(WithheldName, r.Stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("parent")]
    [InlineData("cordon")]
    public void Memory_of_cordons_processes_cannot_be_read_with_process_vm_readv(string who) => Stopped(Reach("vm-read", who));

    [Theory]
    [InlineData("parent")]
    [InlineData("cordon")]
    public void Cordons_processes_cannot_be_traced(string who) => Stopped(Reach("attach", who));

    [Theory]
    [InlineData("parent", "3")]
    [InlineData("cordon", "0")]
    public void Descriptors_of_cordons_processes_cannot_be_taken(string who, string fd) => Stopped(Reach("getfd", who, fd));

    [Theory]
    [InlineData("STOP")]
    [InlineData("KILL")]
    [InlineData("TERM")]
    public void The_reaper_cannot_be_signalled(string signal) => Stopped(Reach("signal", "parent", signal));

    [Fact]
    public void A_program_that_tries_to_forge_its_exit_status_gets_its_own()
    {
        var r = s.Cordon(
            ["run", "--no-prompt", "--allow-read=" + s.Work, "--allow-run=" + ReachProgram.Path, "--", "/bin/sh", "-c", $"'{ReachProgram.Path}' getfd parent 3; exit 3"]);
        Assert.Contains("stopped:", r.Stdout, StringComparison.Ordinal);
        Assert.True(r.ExitCode == 3, r.ToString());
    }

    [Theory]
    [InlineData("parent", "prlimit")]
    [InlineData("parent", "nice")]
    [InlineData("parent", "affinity")]
    [InlineData("parent", "ioprio")]
    [InlineData("cordon", "prlimit")]
    [InlineData("cordon", "nice")]
    [InlineData("cordon", "affinity")]
    [InlineData("cordon", "ioprio")]
    [InlineData("outside", "prlimit")]
    [InlineData("outside", "nice")]
    [InlineData("outside", "affinity")]
    [InlineData("outside", "ioprio")]
    [InlineData("0", "nice-user")]
    public void Limits_and_priorities_of_processes_outside_the_sandbox_cannot_be_changed(string who, string how)
    {
        // "outside": this test process, another process of the same user.
        string target = who == "outside" ? Environment.ProcessId.ToString(CultureInfo.InvariantCulture) : who;
        Stopped(Reach("limits", target, how));
    }

    [Fact]
    public void Fanotify_cannot_watch_other_processes_opens() => Stopped(Reach("fanotify", s.Home));

    [Theory]
    [InlineData("setuid-chmod")]
    [InlineData("setgid-chmod")]
    [InlineData("setuid-create")]
    [InlineData("setcap")]
    [InlineData("mknod")]
    [InlineData("chown-other")]
    public void No_privilege_is_left_behind_in_the_granted_folder(string how)
    {
        var file = Path.Combine(s.Work, "tool");
        Stopped(Reach("privilege", how, file));
        if (File.Exists(file))
        {
            var mode = File.GetUnixFileMode(file);
            Assert.False(mode.HasFlag(UnixFileMode.SetUser) || mode.HasFlag(UnixFileMode.SetGroup), $"{file} has mode {mode}");
        }
    }

    [Fact]
    public void TIOCCONS_is_refused() => Stopped(Reach("tioccons"));

    [Fact]
    public void A_stream_send_whose_descriptor_is_swapped_for_a_datagram_socket_reaches_no_undecided_address() =>
        Stopped(Reach("stream-swap", "20000"));

    [Fact]
    public void Root_programs_cannot_change_addresses_routes_or_links()
    {
        // As root in a network namespace of the test's own, so that a failure of this test harms nothing.
        string[] wrapper = Root ? ["unshare", "-n", "--"] : [];
        var r = s.Cordon(wrapper, ["run", "--no-prompt", "--", "/bin/sh", "-c",
            "ip link set lo up; a=$?; ip addr add 10.200.0.1/32 dev lo; b=$?; ip link add cordon0 type dummy; c=$?; echo \"status $a $b $c\""], null);
        var line = r.Stdout.Split('\n').Single(l => l.StartsWith("status ", StringComparison.Ordinal));
        Assert.All(line.Split(' ').Skip(1), status => Assert.NotEqual("0", status));
    }

    [Fact]
    public void The_program_gets_the_umask_cordon_was_started_with()
    {
        var r = s.Cordon(["/bin/sh", "-c", "umask 027; exec \"$@\"", "sh"], ["run", "--no-prompt", "--allow-read=" + s.Work, "--allow-write=" + s.Work, "--", "/bin/sh", "-c", "umask; touch f; mkdir d"], null);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("0027", r.Stdout, StringComparison.Ordinal);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead, File.GetUnixFileMode(Path.Combine(s.Work, "f")));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute, File.GetUnixFileMode(Path.Combine(s.Work, "d")));
    }
}

/// <summary>What the protections of <see cref="ReachEscapeTests"/> must leave working.</summary>
[Collection(Heavy.Name)]
public sealed class ReachTests : IDisposable
{
    private readonly Sandboxed s = new();

    public void Dispose() => s.Dispose();

    [Fact]
    public void Limits_and_priorities_of_the_programs_own_children_can_still_be_changed()
    {
        var r = s.Cordon(
            ["run", "--no-prompt", "--allow-read=" + s.Work, "--", "/bin/sh", "-c",
             "sleep 5 & c=$!; prlimit --pid $c --core=0:0 && renice -n 5 -p $c >/dev/null && taskset -p 1 $c >/dev/null && ionice -c 3 -p $c && kill $c && echo fine"]);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("fine", r.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void A_rule_naming_the_file_itself_allows_a_setuid_bit()
    {
        var file = Path.Combine(s.Work, "tool");
        var r = s.Cordon(["run", "--no-prompt", "--allow-read=" + s.Work, "--allow-write=" + s.Work, "--allow-write=" + file, "--", ReachProgram.Path, "privilege", "setuid-chmod", file]);
        Assert.True(r.Stdout.Contains("ESCAPED", StringComparison.Ordinal), r.ToString()); // here: the setuid bit was set, as the rule allows
        Assert.True(File.GetUnixFileMode(file).HasFlag(UnixFileMode.SetUser));
    }
}
