using FsCheck.Xunit;
using Xunit;

namespace Cordon.Seccomp.Tests;

/// <summary>
/// The view engine's filter: read-only opens stay in the kernel (the view decides them), every open that may write
/// or create is trapped, and everything else is exactly the seccomp engine's filter.
/// </summary>
public class ViewFilterTests
{
    private static readonly SockFilter[] View = FilterCompiler.Compile(FilterPlan.ForView());
    private static readonly SockFilter[] Default = FilterCompiler.Compile(FilterPlan.Default());

    private const ulong O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2, O_CREAT = 0x40, O_TRUNC = 0x200, O_APPEND = 0x400,
        O_DIRECTORY = 0x10000, O_NOFOLLOW = 0x20000, O_CLOEXEC = 0x80000, O_PATH = 0x200000, O_TMPFILE = 0x400000 | O_DIRECTORY;

    private static uint Open(SockFilter[] program, ulong flags) => BpfInterpreter.Run(program, SeccompData.X64((int)Sys.Open, 0x1000, flags, 0, 0, 0, 0));

    private static uint OpenAt(SockFilter[] program, ulong flags) => BpfInterpreter.Run(program, SeccompData.X64((int)Sys.Openat, unchecked((ulong)-100), 0x1000, flags, 0, 0, 0));

    [Theory]
    [InlineData(O_RDONLY)]
    [InlineData(O_RDONLY | O_CLOEXEC | O_NOFOLLOW)]
    [InlineData(O_DIRECTORY | O_CLOEXEC)]
    [InlineData(O_PATH)]
    [InlineData(O_APPEND)] // without write access an append flag writes nothing
    public void Read_only_opens_stay_in_the_kernel(ulong flags)
    {
        Assert.Equal(SeccompAction.Allow, Open(View, flags));
        Assert.Equal(SeccompAction.Allow, OpenAt(View, flags));
        Assert.Equal(SeccompAction.UserNotif, OpenAt(Default, flags));
    }

    [Theory]
    [InlineData(O_WRONLY)]
    [InlineData(O_RDWR)]
    [InlineData(O_WRONLY | O_RDWR)]
    [InlineData(O_CREAT)]
    [InlineData(O_RDONLY | O_TRUNC)] // truncates a file opened for reading: a write
    [InlineData(O_TMPFILE | O_RDWR)]
    [InlineData(O_CREAT | O_CLOEXEC | (1UL << 40))]
    public void Opens_that_may_write_or_create_are_trapped(ulong flags)
    {
        Assert.Equal(SeccompAction.UserNotif, Open(View, flags));
        Assert.Equal(SeccompAction.UserNotif, OpenAt(View, flags));
    }

    [Fact]
    public void Openat2_and_creat_stay_trapped() // openat2's flags are in memory the filter cannot read
    {
        Assert.Equal(SeccompAction.UserNotif, BpfInterpreter.Run(View, SeccompData.X64((int)Sys.Openat2, 0, 0, 0, 0, 0, 0)));
        Assert.Equal(SeccompAction.UserNotif, BpfInterpreter.Run(View, SeccompData.X64((int)Sys.Creat, 0, 0, 0, 0, 0, 0)));
    }

    [Property(MaxTest = 3000)]
    public bool Every_other_call_gets_what_the_seccomp_engine_gives_it(int nr, ulong a0, ulong a1, ulong a2, ulong a3)
    {
        int n = (int)((uint)nr % (SyscallNames.Highest + 2));
        if (n is (int)Sys.Open or (int)Sys.Openat)
        {
            return true;
        }

        var data = SeccompData.X64(n, a0, a1, a2, a3, 0, 0);
        return BpfInterpreter.Run(View, data) == BpfInterpreter.Run(Default, data);
    }

    [Property(MaxTest = 3000)]
    public bool An_open_is_trapped_exactly_when_its_flags_may_write(ulong flags) =>
        (OpenAt(View, flags) == SeccompAction.UserNotif) == ((flags & FilterPlan.WriteIntent) != 0)
        && OpenAt(View, flags) is SeccompAction.UserNotif or SeccompAction.Allow;
}
