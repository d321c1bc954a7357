namespace Cordon.Seccomp;

/// <summary>A test on one system call argument. Arguments are 64-bit; the filter reads them as two 32-bit words.</summary>
public abstract record ArgCheck(int Arg)
{
    /// <summary>Any bit of <paramref name="Mask"/> is set in the argument's low 32 bits (flags the kernel reads as int).</summary>
    public sealed record AnyBitsLow(int Arg, uint Mask) : ArgCheck(Arg);

    /// <summary>The low 32 bits equal <paramref name="Value"/> (the kernel truncates the argument to int/unsigned int).</summary>
    public sealed record EqualsLow(int Arg, uint Value) : ArgCheck(Arg);

    /// <summary>The full 64-bit argument is not zero (a pointer).</summary>
    public sealed record NonZero(int Arg) : ArgCheck(Arg);

    /// <summary>The full 64-bit argument is at most <paramref name="Value"/> (a length).</summary>
    public sealed record AtMost(int Arg, uint Value) : ArgCheck(Arg);
}

/// <summary>When every check holds, the call gets <paramref name="Action"/>.</summary>
public sealed record Clause(uint Action, IReadOnlyList<ArgCheck> When, string Why);

/// <summary>
/// What the filter does with one system call: the first clause whose checks all hold decides; otherwise
/// <paramref name="Otherwise"/>.
/// </summary>
public sealed record SyscallRule(Sys Nr, IReadOnlyList<Clause> Clauses, uint Otherwise)
{
    public static SyscallRule Always(Sys nr, uint action, string why) => new(nr, [new Clause(action, [], why)], action);
}

/// <summary>The whole filter as data. <see cref="FilterCompiler"/> turns it into cBPF.</summary>
public sealed record FilterPlan(IReadOnlyList<SyscallRule> Rules, uint DefaultAction, int HighestKnown)
{
    private const int EPERM = 1;
    private const int ENOSYS = 38;

    /// <summary>Namespace-creating clone/unshare flags (include/uapi/linux/sched.h).</summary>
    public const uint NamespaceFlags =
        0x00020000 /* NEWNS */ | 0x02000000 /* NEWCGROUP */ | 0x04000000 /* NEWUTS */ | 0x08000000 /* NEWIPC */ |
        0x10000000 /* NEWUSER */ | 0x20000000 /* NEWPID */ | 0x40000000 /* NEWNET */ | 0x00000080 /* NEWTIME */;

    public const uint TIOCSTI = 0x5412;
    public const uint TIOCLINUX = 0x541C;
    public const uint TIOCCONS = 0x541D;
    public const uint PRIO_PROCESS = 0;
    public const uint IOPRIO_WHO_PROCESS = 1;
    public const uint PTRACE_SETOPTIONS = 0x4200;
    public const uint PTRACE_SEIZE = 0x4206;
    public const uint PTRACE_O_SUSPEND_SECCOMP = 1u << 21;
    public const uint SECCOMP_SET_MODE_FILTER = 1;
    public const uint SECCOMP_FILTER_FLAG_NEW_LISTENER = 1u << 3;

    /// <summary>The action for a call the plan has no rule for.</summary>
    public uint ActionFor(int nr) => Rules.FirstOrDefault(r => (int)r.Nr == nr)?.Otherwise ?? DefaultAction;

    /// <summary>
    /// cordon's filter. Allow by default: every call with an effect on files, programs or the network is trapped or
    /// refused below, and the rest (memory, time, signals inside the sandbox, reads of descriptors already granted)
    /// cannot reach anything new. Calls the supervisor decides are trapped (USER_NOTIF); calls that would bypass
    /// the supervisor or the sandbox are refused in the kernel, before the supervisor is involved.
    /// </summary>
    /// <summary>DNS over UDP without EDNS fits in 512 bytes (RFC 1035, 4.2.1); a query is far smaller.</summary>
    public const uint MaxDnsQuery = 512;

    /// <summary>
    /// Open flags that may change a file or make one: write access, create, truncate, a temporary file. An open
    /// without any of them only reads (or only names: O_PATH), and the view engine lets the kernel do it.
    /// </summary>
    public const uint WriteIntent = 0x1 /* O_WRONLY */ | 0x2 /* O_RDWR */ | 0x40 /* O_CREAT */ | 0x200 /* O_TRUNC */ | 0x400000 /* __O_TMPFILE */;

    /// <summary>
    /// The filter of the view engine (docs/view.md): as <see cref="Default"/>, except that open and openat without
    /// <see cref="WriteIntent"/> stay in the kernel. The program's file system is then cordon's view, where an
    /// allowed tree is a bind mount and everything else is cordon's FUSE mirror, which decides each open itself.
    /// The flags are a register, so the check cannot be raced. openat2 (flags in memory) and creat stay trapped.
    /// </summary>
    public static FilterPlan ForView() => Default(readOnlyOpensInKernel: true);

    public static FilterPlan Default() => Default(readOnlyOpensInKernel: false);

    private static FilterPlan Default(bool readOnlyOpensInKernel)
    {
        var rules = new List<SyscallRule>();
        void Notify(string why, params Sys[] calls) => rules.AddRange(calls.Select(c => SyscallRule.Always(c, SeccompAction.UserNotif, why)));
        void Refuse(string why, params Sys[] calls) => rules.AddRange(calls.Select(c => SyscallRule.Always(c, SeccompAction.Errno(EPERM), why)));

        if (readOnlyOpensInKernel)
        {
            foreach (var (call, flagsArg) in new[] { (Sys.Open, 1), (Sys.Openat, 2) })
            {
                rules.Add(new SyscallRule(call,
                    [new Clause(SeccompAction.UserNotif, [new ArgCheck.AnyBitsLow(flagsArg, WriteIntent)], "an open that may write or create: resolved, decided and performed by the supervisor")],
                    SeccompAction.Allow));
            }

            Notify("opens whose flags the filter cannot read (openat2), and creat: performed by the supervisor", Sys.Openat2, Sys.Creat);
        }
        else
        {
            Notify("opens: resolved, decided and performed by the supervisor",
                Sys.Open, Sys.Openat, Sys.Openat2, Sys.Creat);
        }

        Notify("file changes: performed by the supervisor on descriptors it resolved (legacy numbers included: glibc still uses unlink, rename, ...)",
            Sys.Unlink, Sys.Unlinkat, Sys.Rmdir, Sys.Mkdir, Sys.Mkdirat, Sys.Mknod, Sys.Mknodat,
            Sys.Rename, Sys.Renameat, Sys.Renameat2, Sys.Link, Sys.Linkat, Sys.Symlink, Sys.Symlinkat,
            Sys.Chmod, Sys.Fchmod, Sys.Fchmodat, Sys.Fchmodat2, Sys.Chown, Sys.Fchown, Sys.Lchown, Sys.Fchownat,
            Sys.Truncate, Sys.Utime, Sys.Utimes, Sys.Futimesat, Sys.Utimensat,
            Sys.Setxattr, Sys.Lsetxattr, Sys.Fsetxattr, Sys.Removexattr, Sys.Lremovexattr, Sys.Fremovexattr,
            Sys.Setxattrat, Sys.Removexattrat);
        Notify("programs: decided on the resolved file, then the kernel executes (the race is narrowed, see README)",
            Sys.Execve, Sys.Execveat);
        Notify("network: decided and performed by the supervisor on its copy of the socket",
            Sys.Connect, Sys.Bind, Sys.Listen, Sys.Sendmsg, Sys.Sendmmsg);
        rules.Add(new SyscallRule(Sys.Sendto,
            [
                new Clause(SeccompAction.UserNotif, [new ArgCheck.NonZero(4)], "sendto with a destination address; without one it goes to the peer decided at connect"),
                new Clause(SeccompAction.UserNotif, [new ArgCheck.AtMost(2, MaxDnsQuery)], "a small send on a connected socket: glibc sends a single DNS query with send(); the supervisor reads the names of queries to port 53 and lets every send through"),
            ],
            SeccompAction.Allow));

        Refuse("io_uring operations open files and sockets without any system call the filter could see",
            Sys.IoUringSetup, Sys.IoUringEnter, Sys.IoUringRegister);
        Refuse("kernel programming and memory tricks that can bypass or fool the supervisor",
            Sys.Bpf, Sys.Userfaultfd, Sys.PerfEventOpen);
        Refuse("mounts and root changes would let a path mean something else to the supervisor than to the program",
            Sys.Mount, Sys.Umount2, Sys.PivotRoot, Sys.Chroot, Sys.Fsopen, Sys.Fsconfig, Sys.Fsmount, Sys.Fspick,
            Sys.MoveMount, Sys.OpenTree, Sys.OpenTreeAttr, Sys.MountSetattr);
        Refuse("namespaces: joining one changes what paths and addresses mean", Sys.Setns);
        Refuse("opens a file by handle, with no path to decide", Sys.OpenByHandleAt);
        Refuse("kernel keyrings hold credentials of other sessions", Sys.Keyctl, Sys.AddKey, Sys.RequestKey);
        rules.AddRange(Fanotify());

        // Limits, priorities and CPU placement of another process: the kernel only checks the uid (and Landlock does
        // not scope these), so a program could starve or cripple any process of the user, cordon included. Any pid
        // but 0 (the caller) goes to the supervisor, which allows only the caller's own threads and other processes
        // of the sandbox. The pid is a register: CONTINUE is not raceable.
        rules.AddRange(OtherProcesses(SeccompAction.UserNotif));
        Refuse("modules, kexec and machine-wide settings (reachable when cordon runs as root)",
            Sys.InitModule, Sys.FinitModule, Sys.DeleteModule, Sys.KexecLoad, Sys.KexecFileLoad, Sys.Reboot,
            Sys.Swapon, Sys.Swapoff, Sys.Acct, Sys.Settimeofday, Sys.ClockSettime, Sys.ClockAdjtime, Sys.Adjtimex,
            Sys.Sethostname, Sys.Setdomainname, Sys.Iopl, Sys.Ioperm, Sys.Quotactl, Sys.QuotactlFd, Sys.Syslog,
            Sys.Uselib, Sys.LsmSetSelfAttr, Sys.FileSetattr, Sys.Vhangup);

        rules.Add(new SyscallRule(Sys.Clone3, [new Clause(SeccompAction.Errno(ENOSYS), [], "clone3 passes its flags in memory the filter cannot read: ENOSYS makes glibc fall back to clone")], SeccompAction.Errno(ENOSYS)));
        rules.Add(new SyscallRule(Sys.Clone,
            [new Clause(SeccompAction.Errno(EPERM), [new ArgCheck.AnyBitsLow(0, NamespaceFlags)], "new namespaces")],
            SeccompAction.Allow));
        rules.Add(new SyscallRule(Sys.Unshare,
            [new Clause(SeccompAction.Errno(EPERM), [new ArgCheck.AnyBitsLow(0, NamespaceFlags)], "new namespaces; unshare(CLONE_FILES) and friends stay allowed")],
            SeccompAction.Allow));
        rules.Add(TerminalIoctls());
        rules.Add(new SyscallRule(Sys.Ptrace,
            [
                new Clause(SeccompAction.Errno(EPERM), [new ArgCheck.EqualsLow(0, PTRACE_SETOPTIONS), new ArgCheck.AnyBitsLow(3, PTRACE_O_SUSPEND_SECCOMP)], "a tracer (with CAP_SYS_ADMIN) could switch seccomp off for its tracee"),
                new Clause(SeccompAction.Errno(EPERM), [new ArgCheck.EqualsLow(0, PTRACE_SEIZE), new ArgCheck.AnyBitsLow(3, PTRACE_O_SUSPEND_SECCOMP)], "the same, set at PTRACE_SEIZE"),
            ],
            SeccompAction.Allow));
        rules.Add(new SyscallRule(Sys.Seccomp,
            [new Clause(SeccompAction.Errno(EPERM), [new ArgCheck.EqualsLow(0, SECCOMP_SET_MODE_FILTER), new ArgCheck.AnyBitsLow(1, SECCOMP_FILTER_FLAG_NEW_LISTENER)], "the kernel hands a USER_NOTIF to the newest filter's listener: the program would answer its own calls")],
            SeccompAction.Allow));

        return new FilterPlan(rules, SeccompAction.Allow, SyscallNames.Highest);
    }

    /// <summary>
    /// The filter of the LSM engine, where the kernel's hooks decide files, programs and the network and nobody
    /// holds a listener: only refusals, for what the hooks do not cover. Limits and scheduling of another process
    /// are refused outright (there is no supervisor to check that the target is in the sandbox), and so are
    /// fanotify and the terminal ioctls that inject input or take the console.
    /// </summary>
    public static FilterPlan ForKernelEngine() =>
        new([.. OtherProcesses(SeccompAction.Errno(EPERM)), .. Fanotify(), TerminalIoctls()], SeccompAction.Allow, SyscallNames.Highest);

    /// <summary>
    /// prlimit64, sched_set* (pid in argument 0), setpriority and ioprio_set (who in argument 1): the caller itself
    /// (pid 0) stays in the kernel, another process gets <paramref name="otherProcess"/>, and a whole process group
    /// or user (PRIO_USER would renice every process of the user at once) is refused.
    /// </summary>
    private static IEnumerable<SyscallRule> OtherProcesses(uint otherProcess)
    {
        foreach (var call in new[] { Sys.Prlimit64, Sys.SchedSetaffinity, Sys.SchedSetscheduler, Sys.SchedSetparam, Sys.SchedSetattr })
        {
            yield return new SyscallRule(call,
                [new Clause(otherProcess, [new ArgCheck.NonZero(0)], "another process's limits or scheduling")],
                SeccompAction.Allow);
        }

        foreach (var (call, process) in new[] { (Sys.Setpriority, PRIO_PROCESS), (Sys.IoprioSet, IOPRIO_WHO_PROCESS) })
        {
            yield return new SyscallRule(call,
                [
                    new Clause(otherProcess, [new ArgCheck.EqualsLow(0, process), new ArgCheck.NonZero(1)], "another process's priority"),
                    new Clause(SeccompAction.Allow, [new ArgCheck.EqualsLow(0, process)], "the caller's own priority"),
                ],
                SeccompAction.Errno(EPERM));
        }
    }

    private static IEnumerable<SyscallRule> Fanotify() =>
        new[] { Sys.FanotifyInit, Sys.FanotifyMark }.Select(c => SyscallRule.Always(c, SeccompAction.Errno(EPERM),
            "fanotify hands out descriptors of files other processes open (read and write, for root) and can hold their opens"));

    private static SyscallRule TerminalIoctls() => new(Sys.Ioctl,
        [
            new Clause(SeccompAction.Errno(EPERM), [new ArgCheck.EqualsLow(1, TIOCSTI)], "TIOCSTI pushes input into the terminal: commands typed into the user's shell after cordon exits"),
            new Clause(SeccompAction.Errno(EPERM), [new ArgCheck.EqualsLow(1, TIOCLINUX)], "TIOCLINUX can paste the console selection as input"),
            new Clause(SeccompAction.Errno(EPERM), [new ArgCheck.EqualsLow(1, TIOCCONS)], "TIOCCONS redirects the machine's console output to a terminal of the program's"),
        ],
        SeccompAction.Allow);
}
