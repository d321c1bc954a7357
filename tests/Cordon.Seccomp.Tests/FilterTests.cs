using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Xunit;

namespace Cordon.Seccomp.Tests;

public class FilterTests
{
    private static readonly FilterPlan Plan = FilterPlan.Default();
    private static readonly SockFilter[] Program = FilterCompiler.Compile(Plan);
    private static readonly uint Eperm = SeccompAction.Errno(1);
    private static readonly uint Enosys = SeccompAction.Errno(38);

    private static void Expect(uint expected, SeccompData data)
    {
        uint got = BpfInterpreter.Run(Program, data);
        Assert.True(expected == got,
            $"nr {data.Nr} ({SyscallNames.Name(data.Nr)}) args [{string.Join(", ", data.Args.Select(a => "0x" + a.ToString("x")))}]: " +
            $"expected {SeccompAction.Describe(expected)}, got {SeccompAction.Describe(got)}\n{Disassembler.Render(Program)}");
    }

    public static TheoryData<Sys> Trapped => new(
        Sys.Open, Sys.Openat, Sys.Openat2, Sys.Creat, Sys.Unlink, Sys.Unlinkat, Sys.Rmdir, Sys.Mkdir, Sys.Mkdirat,
        Sys.Mknod, Sys.Mknodat, Sys.Rename, Sys.Renameat, Sys.Renameat2, Sys.Link, Sys.Linkat, Sys.Symlink,
        Sys.Symlinkat, Sys.Chmod, Sys.Fchmod, Sys.Fchmodat, Sys.Fchmodat2, Sys.Chown, Sys.Fchown, Sys.Lchown,
        Sys.Fchownat, Sys.Truncate, Sys.Utime, Sys.Utimes, Sys.Futimesat, Sys.Utimensat, Sys.Setxattr,
        Sys.Lsetxattr, Sys.Fsetxattr, Sys.Removexattr, Sys.Lremovexattr, Sys.Fremovexattr, Sys.Setxattrat,
        Sys.Removexattrat, Sys.Execve, Sys.Execveat, Sys.Connect, Sys.Bind, Sys.Listen, Sys.Sendmsg, Sys.Sendmmsg);

    [Theory]
    [MemberData(nameof(Trapped))]
    public void File_program_and_network_calls_go_to_the_supervisor(Sys call) =>
        Expect(SeccompAction.UserNotif, SeccompData.X64((int)call, 1, 2, 3, 4, 5, 6));

    public static TheoryData<Sys> Refused => new(
        Sys.IoUringSetup, Sys.IoUringEnter, Sys.IoUringRegister, Sys.Bpf, Sys.Userfaultfd, Sys.PerfEventOpen,
        Sys.Mount, Sys.Umount2, Sys.PivotRoot, Sys.Chroot, Sys.Fsopen, Sys.Fsmount, Sys.MoveMount, Sys.OpenTree,
        Sys.MountSetattr, Sys.Setns, Sys.OpenByHandleAt, Sys.Keyctl, Sys.AddKey, Sys.RequestKey, Sys.InitModule,
        Sys.FinitModule, Sys.KexecLoad, Sys.KexecFileLoad, Sys.Reboot, Sys.Acct, Sys.Sethostname, Sys.Iopl,
        Sys.Uselib, Sys.FileSetattr);

    [Theory]
    [MemberData(nameof(Refused))]
    public void Calls_that_bypass_the_sandbox_are_refused_with_eperm(Sys call) =>
        Expect(Eperm, SeccompData.X64((int)call));

    [Fact]
    public void A_foreign_architecture_is_killed()
    {
        var data = SeccompData.X64((int)Sys.Getpid) with { Arch = SeccompAction.AuditArchI386 };
        Expect(SeccompAction.KillProcess, data);
    }

    [Fact]
    public void An_x32_number_is_killed() => Expect(SeccompAction.KillProcess, SeccompData.X64(0x40000000 | (int)Sys.Getpid));

    [Fact]
    public void A_number_newer_than_cordon_gets_enosys() => Expect(Enosys, SeccompData.X64(SyscallNames.Highest + 1));

    [Fact]
    public void Highest_is_the_newest_call_cordon_knows() => Assert.Equal(SyscallNames.Highest, Enum.GetValues<Sys>().Max(v => (int)v));

    [Fact]
    public void Clone3_looks_absent() => Expect(Enosys, SeccompData.X64((int)Sys.Clone3));

    [Fact]
    public void Sendto_without_an_address_is_allowed_unless_small_and_with_one_is_trapped()
    {
        Expect(SeccompAction.Allow, SeccompData.X64((int)Sys.Sendto, 3, 0x1000, 513, 0, 0, 0));
        Expect(SeccompAction.Allow, SeccompData.X64((int)Sys.Sendto, 3, 0x1000, 65536, 0, 0, 0));
        // A length with high bits set is not small, whatever its low word says.
        Expect(SeccompAction.Allow, SeccompData.X64((int)Sys.Sendto, 3, 0x1000, 0x1_0000_0010, 0, 0, 0));
        // Small sends without an address may be DNS queries: trapped so that their names are learned.
        Expect(SeccompAction.UserNotif, SeccompData.X64((int)Sys.Sendto, 3, 0x1000, 10, 0, 0, 0));
        Expect(SeccompAction.UserNotif, SeccompData.X64((int)Sys.Sendto, 3, 0x1000, 512, 0, 0, 0));
        Expect(SeccompAction.UserNotif, SeccompData.X64((int)Sys.Sendto, 3, 0x1000, 100000, 0, 0x7fff0000, 16));
        // An address above 4 GiB has a zero low word: only checking the low half would let it through.
        Expect(SeccompAction.UserNotif, SeccompData.X64((int)Sys.Sendto, 3, 0x1000, 10, 0, 0x0000_7f00_0000_0000, 16));
    }

    [Fact]
    public void Tiocsti_is_refused_whatever_the_high_bits_say()
    {
        Expect(Eperm, SeccompData.X64((int)Sys.Ioctl, 0, 0x5412));
        Expect(Eperm, SeccompData.X64((int)Sys.Ioctl, 0, 0xFFFFFFFF_00005412)); // the kernel truncates cmd to 32 bits
        Expect(Eperm, SeccompData.X64((int)Sys.Ioctl, 0, 0x541C));
        Expect(SeccompAction.Allow, SeccompData.X64((int)Sys.Ioctl, 0, 0x5413)); // TIOCGWINSZ
    }

    [Theory]
    [InlineData(0x10000000ul)] // CLONE_NEWUSER
    [InlineData(0x20000ul)] // CLONE_NEWNS
    [InlineData(0x40000000ul)] // CLONE_NEWNET
    [InlineData(0x80ul)] // CLONE_NEWTIME
    public void Namespace_flags_on_clone_and_unshare_are_refused(ulong flag)
    {
        Expect(Eperm, SeccompData.X64((int)Sys.Clone, flag | 0x11));
        Expect(Eperm, SeccompData.X64((int)Sys.Unshare, flag));
    }

    [Fact]
    public void Fork_threads_and_harmless_unshare_stay_allowed()
    {
        Expect(SeccompAction.Allow, SeccompData.X64((int)Sys.Clone, 0x01200011)); // fork: CHILD_CLEARTID|CHILD_SETTID|SIGCHLD
        Expect(SeccompAction.Allow, SeccompData.X64((int)Sys.Clone, 0x003d0f00)); // pthread_create
        Expect(SeccompAction.Allow, SeccompData.X64((int)Sys.Unshare, 0x400)); // CLONE_FILES
    }

    [Fact]
    public void Only_a_seccomp_listener_is_refused()
    {
        Expect(Eperm, SeccompData.X64((int)Sys.Seccomp, 1, 1ul << 3));
        Expect(SeccompAction.Allow, SeccompData.X64((int)Sys.Seccomp, 1, 0)); // a plain filter may be stacked
    }

    [Fact]
    public void Ptrace_cannot_suspend_seccomp()
    {
        Expect(Eperm, SeccompData.X64((int)Sys.Ptrace, 0x4200, 42, 0, 1ul << 21));
        Expect(Eperm, SeccompData.X64((int)Sys.Ptrace, 0x4206, 42, 0, (1ul << 21) | 1));
        Expect(SeccompAction.Allow, SeccompData.X64((int)Sys.Ptrace, 0x4200, 42, 0, 1));
    }

    [Property(MaxTest = 500)]
    public Property Calls_the_plan_does_not_name_are_allowed_whatever_their_arguments(ulong a0, ulong a1, ulong a2, ulong a3, ulong a4, ulong a5)
    {
        var named = Plan.Rules.Select(r => (int)r.Nr).ToHashSet();
        var free = Enum.GetValues<Sys>().Select(s => (int)s).Where(n => !named.Contains(n)).ToArray();
        return Prop.ForAll(Gen.Elements(free).ToArbitrary(), nr =>
            BpfInterpreter.Run(Program, SeccompData.X64(nr, a0, a1, a2, a3, a4, a5)) == SeccompAction.Allow);
    }

    [Fact]
    public void No_argument_is_read_for_calls_decided_by_number_alone()
    {
        // The kernel's seccomp action cache can only skip the filter for a number whose verdict does not depend on
        // arguments; a load in the dispatch would make every call run the whole filter.
        foreach (var nr in Enum.GetValues<Sys>())
        {
            var rule = Plan.Rules.FirstOrDefault(r => r.Nr == nr);
            if (rule is not null && rule.Clauses.Any(c => c.When.Count > 0))
            {
                continue;
            }

            BpfInterpreter.Run(Program, SeccompData.X64((int)nr, 1, 2, 3, 4, 5, 6), out int loads);
            Assert.True(loads == 0, $"{nr} read {loads} argument words\n{Disassembler.Render(Program)}");
        }
    }

    [Fact]
    public void The_program_passes_the_kernels_checks_and_fits()
    {
        FilterValidator.Validate(Program);
        Assert.InRange(Program.Length, 10, 1000);
    }

    [Fact]
    public void The_byte_encoding_is_little_endian_sock_filter()
    {
        var bytes = SockFilter.ToBytes([new SockFilter(0x15, 1, 2, 0xC000003E)]);
        Assert.Equal(new byte[] { 0x15, 0x00, 0x01, 0x02, 0x3E, 0x00, 0x00, 0xC0 }, bytes);
    }

    [Fact]
    public void A_plan_with_many_argument_rules_compiles_with_long_jumps()
    {
        var rules = Enum.GetValues<Sys>().Take(300).Select(s => new SyscallRule(s,
            [new Clause(SeccompAction.Errno(1), [new ArgCheck.EqualsLow(0, 7), new ArgCheck.NonZero(1)], "test")],
            SeccompAction.UserNotif)).ToList();
        var plan = new FilterPlan(rules, SeccompAction.Allow, SyscallNames.Highest);
        var program = FilterCompiler.Compile(plan);
        Assert.True(program.Length > 256);
        foreach (var r in rules)
        {
            Assert.Equal(SeccompAction.Errno(1), BpfInterpreter.Run(program, SeccompData.X64((int)r.Nr, 7, 1)));
            Assert.Equal(SeccompAction.UserNotif, BpfInterpreter.Run(program, SeccompData.X64((int)r.Nr, 7, 0)));
            Assert.Equal(SeccompAction.UserNotif, BpfInterpreter.Run(program, SeccompData.X64((int)r.Nr, 8, 1)));
        }
    }

    [Fact]
    public void Two_rules_for_one_call_are_a_plan_error()
    {
        var plan = new FilterPlan([SyscallRule.Always(Sys.Open, SeccompAction.Allow, "a"), SyscallRule.Always(Sys.Open, SeccompAction.UserNotif, "b")], SeccompAction.Allow, 470);
        Assert.Throws<ArgumentException>(() => FilterCompiler.Compile(plan));
    }
}

public class InterpreterTests
{
    [Fact]
    public void Alu_and_scratch_memory_follow_cbpf()
    {
        SockFilter[] p =
        [
            new(Op.LD | Op.IMM, 0, 0, 6),
            new(Op.ALU | Op.MUL | Op.K, 0, 0, 7),
            new(Op.ST, 0, 0, 3),
            new(Op.LDX | Op.IMM, 0, 0, 2),
            new(Op.LD | Op.MEM, 0, 0, 3),
            new(Op.ALU | Op.SUB | Op.X, 0, 0, 0),
            new(Op.RET | Op.A, 0, 0, 0),
        ];
        Assert.Equal(40u, BpfInterpreter.Run(p, SeccompData.X64(0)));
    }

    [Fact]
    public void A_load_outside_seccomp_data_is_rejected()
    {
        SockFilter[] p = [new(Op.LD | Op.W | Op.ABS, 0, 0, 64), new(Op.RET | Op.K, 0, 0, 0)];
        Assert.Throws<InvalidOperationException>(() => BpfInterpreter.Run(p, SeccompData.X64(0)));
        Assert.Throws<InvalidOperationException>(() => FilterValidator.Validate(p));
    }

    [Fact]
    public void A_program_without_a_final_return_is_rejected()
    {
        SockFilter[] p = [new(Op.LD | Op.IMM, 0, 0, 1)];
        Assert.Throws<InvalidOperationException>(() => FilterValidator.Validate(p));
    }

    [Fact]
    public void High_words_of_arguments_are_read_at_offset_plus_four()
    {
        SockFilter[] p = [new(Op.LD | Op.W | Op.ABS, 0, 0, 20), new(Op.RET | Op.A, 0, 0, 0)];
        Assert.Equal(0xAABBCCDDu, BpfInterpreter.Run(p, SeccompData.X64(0, 0xAABBCCDD_11223344)));
    }
}
