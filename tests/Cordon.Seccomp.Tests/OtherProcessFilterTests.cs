using Xunit;

namespace Cordon.Seccomp.Tests;

/// <summary>
/// The rules for calls that reach another process (limits, priorities, CPU placement) and fanotify, in both plans:
/// the seccomp engine's (another pid goes to the supervisor) and the LSM engine's refusals-only filter.
/// </summary>
public class OtherProcessFilterTests
{
    private static readonly uint Eperm = SeccompAction.Errno(1);

    private static void Expect(FilterPlan plan, uint expected, SeccompData data)
    {
        var program = FilterCompiler.Compile(plan);
        uint got = BpfInterpreter.Run(program, data);
        Assert.True(expected == got,
            $"nr {data.Nr} ({SyscallNames.Name(data.Nr)}) args [{string.Join(", ", data.Args.Select(a => "0x" + a.ToString("x")))}]: " +
            $"expected {SeccompAction.Describe(expected)}, got {SeccompAction.Describe(got)}\n{Disassembler.Render(program)}");
    }

    public static TheoryData<Sys> ByPid => new(Sys.Prlimit64, Sys.SchedSetaffinity, Sys.SchedSetscheduler, Sys.SchedSetparam, Sys.SchedSetattr);

    [Theory]
    [MemberData(nameof(ByPid))]
    public void Another_pid_goes_to_the_supervisor_and_pid_0_stays_in_the_kernel(Sys call)
    {
        Expect(FilterPlan.Default(), SeccompAction.UserNotif, SeccompData.X64((int)call, 1234, 7));
        Expect(FilterPlan.Default(), SeccompAction.UserNotif, SeccompData.X64((int)call, 1UL << 32, 7)); // high bits: still trapped
        Expect(FilterPlan.Default(), SeccompAction.Allow, SeccompData.X64((int)call, 0, 7));
    }

    [Theory]
    [MemberData(nameof(ByPid))]
    public void The_lsm_engines_filter_refuses_another_pid(Sys call)
    {
        Expect(FilterPlan.ForKernelEngine(), Eperm, SeccompData.X64((int)call, 1234, 7));
        Expect(FilterPlan.ForKernelEngine(), SeccompAction.Allow, SeccompData.X64((int)call, 0, 7));
    }

    [Theory]
    [InlineData(Sys.Setpriority, FilterPlan.PRIO_PROCESS)]
    [InlineData(Sys.IoprioSet, FilterPlan.IOPRIO_WHO_PROCESS)]
    public void Priorities_own_process_in_the_kernel_another_to_the_supervisor_groups_and_users_refused(Sys call, uint process)
    {
        Expect(FilterPlan.Default(), SeccompAction.Allow, SeccompData.X64((int)call, process, 0, 5));
        Expect(FilterPlan.Default(), SeccompAction.UserNotif, SeccompData.X64((int)call, process, 99, 5));
        Expect(FilterPlan.Default(), Eperm, SeccompData.X64((int)call, process + 1, 0, 5)); // a process group
        Expect(FilterPlan.Default(), Eperm, SeccompData.X64((int)call, process + 2, 0, 5)); // every process of a user
        Expect(FilterPlan.ForKernelEngine(), SeccompAction.Allow, SeccompData.X64((int)call, process, 0, 5));
        Expect(FilterPlan.ForKernelEngine(), Eperm, SeccompData.X64((int)call, process, 99, 5));
        Expect(FilterPlan.ForKernelEngine(), Eperm, SeccompData.X64((int)call, process + 2, 0, 5));
    }

    [Theory]
    [InlineData(Sys.FanotifyInit)]
    [InlineData(Sys.FanotifyMark)]
    public void Fanotify_is_refused_by_both_filters(Sys call)
    {
        Expect(FilterPlan.Default(), Eperm, SeccompData.X64((int)call));
        Expect(FilterPlan.ForKernelEngine(), Eperm, SeccompData.X64((int)call));
    }

    [Theory]
    [InlineData(FilterPlan.TIOCSTI)]
    [InlineData(FilterPlan.TIOCLINUX)]
    [InlineData(FilterPlan.TIOCCONS)]
    public void Terminal_injection_and_console_ioctls_are_refused_by_both_filters(uint request)
    {
        Expect(FilterPlan.Default(), Eperm, SeccompData.X64((int)Sys.Ioctl, 0, request));
        Expect(FilterPlan.ForKernelEngine(), Eperm, SeccompData.X64((int)Sys.Ioctl, 0, request));
        Expect(FilterPlan.ForKernelEngine(), SeccompAction.Allow, SeccompData.X64((int)Sys.Ioctl, 0, 0x5401 /* TCGETS */));
    }

    [Fact]
    public void The_lsm_engines_filter_traps_nothing()
    {
        var plan = FilterPlan.ForKernelEngine();
        Assert.DoesNotContain(plan.Rules.SelectMany(r => r.Clauses.Select(c => c.Action).Append(r.Otherwise)), a => a == SeccompAction.UserNotif);
        Expect(plan, SeccompAction.Allow, SeccompData.X64((int)Sys.Openat, 0, 1, 2));
        Expect(plan, SeccompAction.Allow, SeccompData.X64((int)Sys.Execve, 0, 1, 2));
    }
}
