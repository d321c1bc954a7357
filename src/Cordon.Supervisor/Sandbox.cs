using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Cordon.Interop;
using Cordon.Seccomp;

namespace Cordon.Supervisor;

public sealed record SandboxOptions
{
    /// <summary>The program to run, already resolved to a path.</summary>
    public required string ProgramPath { get; init; }

    /// <summary>argv, including argv[0].</summary>
    public required IReadOnlyList<string> Argv { get; init; }

    /// <summary>The environment the program gets, as "NAME=value".</summary>
    public required IReadOnlyList<string> Environment { get; init; }

    public required Policy.Policy Policy { get; init; }

    public required IDecisionObserver Observer { get; init; }

    /// <summary>Path of cordon-launcher; default: next to this assembly.</summary>
    public string? LauncherPath { get; init; }

    /// <summary>Forward SIGTERM/SIGHUP to the program and let the terminal's SIGINT/SIGQUIT reach it alone.</summary>
    public bool HandleSignals { get; init; }

    /// <summary>Descriptors the program gets instead of cordon's own (cordon's pseudo-terminal for 0, 1, 2).</summary>
    public IReadOnlyList<(int From, int To)> Stdio { get; init; } = [];

    /// <summary>Make the program's descriptor 0 its controlling terminal, in a session and process group of its own.</summary>
    public bool ControllingTerminal { get; init; }

    /// <summary>Called once the launcher holds its copies of <see cref="Stdio"/>.</summary>
    public Action? Spawned { get; init; }

    /// <summary>
    /// The LSM engine: no seccomp filter and no supervisor; called with the launcher's pid before the program starts,
    /// to move it into the sandbox's cgroup, where the kernel's hooks decide.
    /// </summary>
    public Action<int>? JoinKernelSandbox { get; init; }

    /// <summary>Run the program as this user and group (cordon started as root through sudo).</summary>
    public (uint Uid, uint Gid)? RunAs { get; init; }

    /// <summary>Called with the program's pid when it has been started (with a controlling terminal it is also its process group).</summary>
    public Action<int>? ProgramStarted { get; init; }

    /// <summary>Called when the program was stopped by a job-control signal (Ctrl-Z); returns when cordon may go on.</summary>
    public Action<int>? ProgramStopped { get; init; }

    /// <summary>The view engine (docs/view.md): the program runs in a file system view cordon builds; null: the seccomp engine.</summary>
    public ViewOptions? View { get; init; }
}

/// <summary>How the view engine runs (<see cref="SandboxOptions.View"/>).</summary>
public sealed class ViewOptions
{
    /// <summary>
    /// Where the view cannot be built (the kernel refuses a step), called with why, and the program runs under the
    /// seccomp engine instead; null: the run fails with that reason.
    /// </summary>
    public Action<string>? FallBack { get; init; }

    /// <summary>Keep trapping read-only opens (learn mode, which must see every read).</summary>
    public bool TrapReads { get; init; }

    /// <summary>The program's terminal (cordon's pseudo-terminal, /dev/pts/N), put into the view's /dev/pts.</summary>
    public string? Terminal { get; init; }
}

/// <summary>The kernel refused a step of building the view, before the program started.</summary>
public sealed class ViewUnavailableException(string message) : Exception(message);

/// <summary>Why cordon itself could not run the program (exit status 125, like env(1) and timeout(1)).</summary>
public sealed class SandboxException(string message) : Exception(message)
{
    public SandboxException()
        : this("sandbox failure")
    {
    }

    public SandboxException(string message, Exception inner)
        : this(message + ": " + inner.Message)
    {
    }
}

/// <summary>Runs one program under cordon: launcher, filter, supervisor, exit status.</summary>
public static class Sandbox
{
    /// <summary>Exit status when the program could not be started because cordon itself failed.</summary>
    public const int CordonFailed = 125;

    public static string DefaultLauncherPath => Path.Combine(AppContext.BaseDirectory, "cordon-launcher");

    /// <summary>The umask cordon was started with (read once: every run sets cordon's own to 0).</summary>
    private static readonly uint StartUmask = ReadUmask();

    private static uint ReadUmask()
    {
        uint old = Libc.Umask(0);
        _ = Libc.Umask(old);
        return old;
    }

    /// <summary>
    /// Runs the program and returns its exit status (128+N when killed by signal N; 126/127 when it could not be
    /// executed). Throws <see cref="SandboxException"/> when cordon itself cannot run it.
    /// </summary>
    public static int Run(SandboxOptions options)
    {
        // PR_SET_PDEATHSIG fires when the *thread* that forked the launcher exits: a parked launcher's thread, which
        // never ends, or else the caller's, which stays in this call for the whole run (a thread of its own cost
        // half a millisecond of every start).
        try
        {
            return RunGuarded(options);
        }
        catch (ViewUnavailableException e) when (options.View?.FallBack is { } fallBack)
        {
            fallBack(e.Message);
            return RunGuarded(options with { View = null });
        }
        catch (ViewUnavailableException e)
        {
            throw new SandboxException("the view engine cannot run here: " + e.Message + " (--engine seccomp works without it)");
        }
    }

    private static int RunGuarded(SandboxOptions options)
    {
        try
        {
            return RunOnThisThread(options);
        }
        catch (Exception e) when (e is not (SandboxException or ViewUnavailableException))
        {
            throw new SandboxException("cordon failed", e);
        }
    }

    private static unsafe int RunOnThisThread(SandboxOptions options)
    {
        if (System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture != System.Runtime.InteropServices.Architecture.X64)
        {
            // The filter checks the architecture first and kills a call of any other (docs/filter.md).
            throw new SandboxException($"cordon runs programs on x86_64 only, not {System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture} (its seccomp filter knows only x86_64's system calls)");
        }

        string launcher = options.LauncherPath ?? DefaultLauncherPath;
        if (!File.Exists(launcher))
        {
            throw new SandboxException($"launcher not found at {launcher} (build cordon with `dotnet build`)");
        }

        // cordon creates files for the program with the program's own umask (read per call); its own must not mask it.
        // The program gets the umask cordon was started with (the launcher sets it), not cordon's 0.
        uint programUmask = StartUmask;
        _ = Libc.Umask(0);

        var argv = new List<string> { "cordon-launcher", "--ppid", Libc.GetPid().ToString(CultureInfo.InvariantCulture) };
        if (options.ControllingTerminal)
        {
            argv.Add("--ctty");
        }

        if (options.JoinKernelSandbox is not null)
        {
            argv.Add("--no-listener");
        }

        if (options.View is not null)
        {
            argv.Add("--view");
            if (TestReaperDelayMs is { } delay)
            {
                argv.AddRange(["--reaper-delay-ms", delay.ToString(CultureInfo.InvariantCulture)]);
            }
        }

        if (options.RunAs is var (uid, gid))
        {
            argv.AddRange(["--user", $"{uid}:{gid}"]);
        }

        argv.AddRange(["--umask", Convert.ToString(programUmask, 8), "--keep-caps", RootCapabilities.Kept.ToString("x", CultureInfo.InvariantCulture)]);

        argv.AddRange(["--", options.ProgramPath, .. options.Argv]);

        var (launcherPid, control) = ParkedLauncher.Take(launcher, argv, options.Environment, options.Stdio) ?? StartLauncher(launcher, argv, options.Environment, options.Stdio);
        using var controlOwner = control;

        if (options.View is null)
        {
            options.Spawned?.Invoke();
        }

        StartupTrace.Mark("launcher spawned");
        using var registrations = options.HandleSignals ? new SignalForwarding() : null;
        Supervisor? supervisor = null;
        View.ViewSession? view = null;
        ReadyThreads? loopThreads = null;
        int reaperPid = launcherPid;
        try
        {
            // While the launcher execs and starts (on another CPU, a few milliseconds), cordon does what needs nothing
            // from it: the filter (read by the launcher only once it, and the view, is ready for it: until then the
            // packet waits in the socket), and the first thread that will answer the program's calls (for the view,
            // while the launcher makes the FUSE connection).
            var plan = options.JoinKernelSandbox is not null ? FilterPlan.ForKernelEngine()
                : options.View is { TrapReads: false } ? FilterPlan.ForView()
                : FilterPlan.Default();
            var filter = SockFilter.ToBytes(FilterCompiler.Compile(plan));
            StartupTrace.Mark("filter compiled");
            void StartLoops() => loopThreads = options.JoinKernelSandbox is null ? Supervisor.LoopThreads() : null;
            if (options.View is not null)
            {
                view = View.ViewSession.Build(launcherPid, options.Policy, options.Observer, options.View.Terminal, () => ReceiveLine(control), data => SendPacket(control, data), filter, StartLoops);
                reaperPid = view.ReaperPid;
            }
            else
            {
                SendPacket(control, filter);
                StartLoops();
            }

            var ready = ReceiveLine(control) ?? throw Failed(launcherPid, "the launcher stopped before installing the filter");
            if (ready.StartsWith("viewfail ", StringComparison.Ordinal))
            {
                throw new ViewUnavailableException(ready["viewfail ".Length..]);
            }

            if (ready.StartsWith("fail ", StringComparison.Ordinal))
            {
                throw LauncherFailed(launcherPid, ready["fail ".Length..]);
            }

            if (options.View is not null)
            {
                // After the last point of falling back: until then the terminal keeps its copy of the program's end,
                // which the seccomp engine's launcher would need.
                options.Spawned?.Invoke();
            }

            StartupTrace.Mark("sandbox ready");
            var parts = ready.Split(' ');
            if (parts.Length != 3 || parts[0] != "ready")
            {
                throw Failed(launcherPid, "unexpected message from the launcher: " + ready);
            }

            int remoteListener = int.Parse(parts[1], CultureInfo.InvariantCulture);
            int landlockAbi = int.Parse(parts[2], CultureInfo.InvariantCulture);
            if (landlockAbi < 6)
            {
                options.Observer.OnIncident($"warning: this kernel's Landlock ABI is {landlockAbi} (< 6): the program can signal processes outside the sandbox and reach abstract Unix sockets");
            }

            // The launcher cannot send the listener with SCM_RIGHTS: sendmsg is trapped by the filter it has just
            // installed, and nobody would answer. cordon takes it with pidfd_getfd instead (launcher/README.md).
            if (options.JoinKernelSandbox is { } join)
            {
                join(launcherPid);
            }
            else
            {
                var listener = TakeListener(reaperPid, remoteListener);
                supervisor = new Supervisor(listener, options.Policy, options.Observer) { SandboxRoot = launcherPid, Reaper = reaperPid, View = view };
                view?.Attach(supervisor);
                supervisor.LearnMirrorDevice();
                supervisor.Start(loopThreads);
            }

            StartupTrace.Mark("program started");
            SendPacket(control, "go"u8.ToArray());

            // The threads beyond the first of each kind start only once the program has run for GrowAfterMs: most
            // programs a build or an agent runs end before they could use them, and their start (half a
            // millisecond each, most of it the starting thread spinning) took a CPU from the program's own start.
            bool grown = supervisor is null;
            int? exitStatus = null;
            int? execError = null;
            int? programPid = null;
            while (true)
            {
                if (!grown && !Readable(control, GrowAfterMs))
                {
                    grown = true;
                    supervisor?.StartAllLoops();
                    view?.ProgramStarting();
                    continue;
                }

                if (ReceiveLine(control) is not { } line)
                {
                    break;
                }

                var words = line.Split(' ');
                switch (words[0])
                {
                    case "child" when programPid is null:
                        // Only the first: the reaper says it once, and nothing else holds this socket.
                        int child = int.Parse(words[1], CultureInfo.InvariantCulture);
                        if (view is not null)
                        {
                            // The reaper names the program by its pid in the view's pid namespace: cordon's is the
                            // reaper's only child. None: the program has already exited and been reaped.
                            if (View.ViewSession.OnlyChild(reaperPid) is not int hostPid)
                            {
                                programPid = 0;
                                break;
                            }

                            child = hostPid;
                        }

                        programPid = child;
                        registrations?.Target(child);
                        options.ProgramStarted?.Invoke(child);
                        break;
                    case "stop":
                        options.ProgramStopped?.Invoke(int.Parse(words[1], CultureInfo.InvariantCulture));
                        break;
                    case "execfail":
                        execError = int.Parse(words[1], CultureInfo.InvariantCulture);
                        break;
                    case "exit":
                        exitStatus = int.Parse(words[1], CultureInfo.InvariantCulture);
                        break;
                }

                if (exitStatus is not null)
                {
                    break; // the reaper says it last, once it has reaped the whole sandbox
                }
            }

            StartupTrace.Mark("program ended");
            int launcherStatus = 0;
            if (exitStatus is null || options.JoinKernelSandbox is not null)
            {
                // The LSM engine removes the sandbox's cgroup next, which must be empty of the launcher too.
                launcherStatus = WaitFor(launcherPid);
                supervisor?.WaitForEnd(TimeSpan.FromSeconds(5));
            }
            else
            {
                // Nothing of the sandbox runs any more: the launcher's own exit (and with it the namespaces'
                // teardown, about a millisecond) is not waited for; its process is reaped later (LeaveToReap).
                LeaveToReap(launcherPid);
            }

            StartupTrace.Mark("sandbox gone");
            if (execError is int errno)
            {
                options.Observer.OnIncident($"cannot run {options.ProgramPath}: {ErrnoException.Describe((Errno)errno)}");
                return errno == (int)Errno.ENOENT ? 127 : 126;
            }

            if (exitStatus is int st)
            {
                return Decode(st);
            }

            // The launcher's own failures print one line and exit 125.
            return Decode(launcherStatus) is int code && code != 0 ? code : CordonFailed;
        }
        catch
        {
            // Only a launcher not reaped yet (Failed reaps it): the pid of one reaped is free for another process.
            if (Libc.WaitPid(launcherPid, out _, Kernel.WALL | Kernel.WNOHANG) == 0)
            {
                _ = Libc.Kill(launcherPid, Kernel.SIGKILL);
                _ = WaitFor(launcherPid);
            }

            view?.Dispose();
            loopThreads?.Release();
            throw;
        }
        finally
        {
            // After the sandbox is gone: the view's FUSE connection ends with the last process that used it. Its
            // readers are told to stop but not waited for (0.1-1 ms at the end of every run): nothing is left that
            // could send a request, and each holds its own reference to the device until it returns.
            if (view is not null && supervisor is not null)
            {
                view.Close(TimeSpan.Zero);
            }
        }
    }

    /// <summary>
    /// Starts the launcher with <paramref name="argv"/> and <paramref name="environment"/>, its end of a new control
    /// socket as fd 3 and <paramref name="stdio"/> mapped; returns its pid and cordon's end. Both a run without a
    /// parked launcher and <see cref="ParkedLauncher"/> start it this way.
    /// </summary>
    internal static unsafe (int Pid, SafeFd Control) StartLauncher(string launcher, IReadOnlyList<string> argv, IReadOnlyList<string> environment, IReadOnlyList<(int From, int To)> stdio)
    {
        int* pair = stackalloc int[2];
        Io.Check(Libc.SocketPair(Kernel.AF_UNIX, Kernel.SOCK_SEQPACKET | Kernel.SOCK_CLOEXEC, 0, pair), "socketpair");
        var control = new SafeFd(pair[0]);
        using var theirs = new SafeFd(pair[1]);
        try
        {
            return (Spawn.Start(launcher, argv, environment, [(theirs.Fd, 3), .. stdio]), control);
        }
        catch
        {
            control.Dispose();
            throw;
        }
    }

    /// <summary>Starts the launcher for a run about to begin, before its command line is read (see <see cref="ParkedLauncher"/>).</summary>
    public static void ParkLauncher() => ParkedLauncher.Park(DefaultLauncherPath);

    internal static int TakeFd(int pid, int remoteFd, string what)
    {
        using var pidfd = Pidfd.Open(pid);
        int fd = Pidfd.GetFd(pidfd, remoteFd);
        if (fd < 0)
        {
            throw new SandboxException($"cannot take {what} from the launcher: pidfd_getfd: " + ErrnoException.Describe((Errno)(-fd)));
        }

        return fd;
    }

    /// <summary>
    /// What the launcher's "fail WHAT: ERROR" means, in cordon's words. Refused (EPERM, EBUSY) in a process that
    /// already runs under a seccomp filter is a sandbox inside a sandbox: cordon run inside cordon (whose filter
    /// refuses a second supervisor, and whose root program cannot drop capabilities any more), or a container whose
    /// filter forbids the same.
    /// </summary>
    internal static string LauncherFailure(string failure) =>
        (failure.EndsWith(": Operation not permitted", StringComparison.Ordinal) || failure.EndsWith(": Device or resource busy", StringComparison.Ordinal))
        && ProcFs.StatusField(Environment.ProcessId, "Seccomp") == 2
            ? "cannot sandbox from here: this process is already in a sandbox (it runs under a seccomp filter: cordon inside cordon, or a container), and that sandbox refused: " + failure + "; run cordon outside it"
            : "the launcher failed: " + failure;

    /// <summary>The launcher said "fail <paramref name="failure"/>" (and exits 125): reaps it, and says what that means.</summary>
    internal static SandboxException LauncherFailed(int launcherPid, string failure)
    {
        _ = WaitOrKill(launcherPid);
        return new SandboxException(LauncherFailure(failure));
    }

    internal static SandboxException Failed(int launcherPid, string what)
    {
        int st = WaitOrKill(launcherPid);
        return new SandboxException($"{what} (launcher exit status {Decode(st)})");
    }

    /// <summary>
    /// The launcher's status once it has ended, for a run that failed: a launcher that failed ends by itself at once,
    /// but one that is still waiting (for cordon, or for the view's reaper, which waits for cordon) never would, so
    /// after <see cref="FailedLauncherGraceMs"/> it is killed.
    /// </summary>
    private static int WaitOrKill(int pid)
    {
        for (int waited = 0; waited < FailedLauncherGraceMs; waited += 10)
        {
            int r = Libc.WaitPid(pid, out int status, Kernel.WALL | Kernel.WNOHANG);
            if (r == pid)
            {
                return status;
            }

            if (r < 0 && Io.LastErrno != Errno.EINTR)
            {
                return CordonFailed << 8;
            }

            Thread.Sleep(10);
        }

        _ = Libc.Kill(pid, Kernel.SIGKILL);
        return WaitFor(pid);
    }

    private const int FailedLauncherGraceMs = 2000;

    /// <summary>
    /// CORDON_TEST_REAPER_DELAY_MS: the view's outer launcher waits this long before it names the reaper, as on a
    /// loaded machine, for the test that checks cordon still gets "reaper" before "ready" (ViewStartTests).
    /// </summary>
    private static int? TestReaperDelayMs =>
        int.TryParse(Environment.GetEnvironmentVariable("CORDON_TEST_REAPER_DELAY_MS"), NumberStyles.None, CultureInfo.InvariantCulture, out int ms) && ms is > 0 and <= 60_000 ? ms : null;

    private static SafeFd TakeListener(int pid, int remoteFd) => new(TakeFd(pid, remoteFd, "the seccomp listener"));

    /// <summary>Exit status as a shell reports it: the code, or 128+N for a signal (wait(2) status layout).</summary>
    public static int Decode(int waitStatus)
    {
        int signal = waitStatus & 0x7f;
        return signal == 0 ? (waitStatus >> 8) & 0xff : 128 + signal;
    }

    private static readonly List<int> Unreaped = [];

    /// <summary>
    /// Reaps <paramref name="pid"/> if it has exited, or keeps it to be reaped at the next run's end (a process that
    /// runs several sandboxes, the tests, does not collect zombies); a process that ends leaves it to init.
    /// </summary>
    private static void LeaveToReap(int pid)
    {
        lock (Unreaped)
        {
            Unreaped.Add(pid);
            Unreaped.RemoveAll(p => Libc.WaitPid(p, out _, Kernel.WALL | Kernel.WNOHANG) != 0);
        }
    }

    private static int WaitFor(int pid)
    {
        while (true)
        {
            int r = Libc.WaitPid(pid, out int status, Kernel.WALL);
            if (r == pid)
            {
                return status;
            }

            if (r < 0 && Io.LastErrno != Errno.EINTR)
            {
                return CordonFailed << 8;
            }
        }
    }

    internal static unsafe void SendPacket(SafeFd fd, byte[] data)
    {
        fixed (byte* p = data)
        {
            nint n = Libc.Send(fd.Fd, p, data.Length, Kernel.MSG_NOSIGNAL);
            if (n != data.Length)
            {
                var error = Io.LastErrno;
                if (ReceiveLine(fd, Kernel.MSG_DONTWAIT) is { } line && line.StartsWith("fail ", StringComparison.Ordinal))
                {
                    throw new SandboxException(LauncherFailure(line["fail ".Length..])); // why it is gone
                }

                throw new SandboxException("cannot talk to the launcher: " + ErrnoException.Describe(error));
            }
        }
    }

    /// <summary>How long a program runs on one notification loop and one mirror reader before the others start.</summary>
    internal const int GrowAfterMs = 20;

    /// <summary>Whether <paramref name="fd"/> has something to read (or is closed) within <paramref name="timeoutMs"/>.</summary>
    private static bool Readable(SafeFd fd, int timeoutMs)
    {
        var pfd = new PollFd { Fd = fd.Fd, Events = Kernel.POLLIN };
        int r = Libc.Poll(ref pfd, 1, timeoutMs);
        return r != 0; // an error (EINTR) reads as "look again", through ReceiveLine's own retry
    }

    internal static unsafe string? ReceiveLine(SafeFd fd, int flags = 0)
    {
        var buf = new byte[1024];
        bool reset = false;
        while (true)
        {
            nint n;
            fixed (byte* p = buf)
            {
                n = Libc.Recv(fd.Fd, p, buf.Length, flags);
            }

            // ECONNRESET: the launcher ended with a packet of cordon's unread (unix_release_sock). The first recv
            // reports that and clears it; what the launcher said before it ended ("fail ...") is still queued.
            if (n < 0 && (Io.LastErrno == Errno.EINTR || (Io.LastErrno == Errno.ECONNRESET && !reset)))
            {
                reset |= Io.LastErrno == Errno.ECONNRESET;
                continue;
            }

            return n <= 0 ? null : Encoding.ASCII.GetString(buf, 0, (int)n).TrimEnd('\n', '\0');
        }
    }

    /// <summary>
    /// While the program runs: SIGINT and SIGQUIT from the terminal reach the program's process group directly, so
    /// cordon ignores them (it must outlive the program to answer its calls); SIGTERM and SIGHUP sent to cordon are
    /// passed on to the program.
    /// </summary>
    private sealed class SignalForwarding : IDisposable
    {
        private readonly List<PosixSignalRegistration> registrations = [];
        private int child;

        public SignalForwarding()
        {
            registrations.Add(PosixSignalRegistration.Create(PosixSignal.SIGINT, c => c.Cancel = true));
            registrations.Add(PosixSignalRegistration.Create(PosixSignal.SIGQUIT, c => c.Cancel = true));
            registrations.Add(PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => Forward(c, 15)));
            registrations.Add(PosixSignalRegistration.Create(PosixSignal.SIGHUP, c => Forward(c, 1)));
        }

        public void Target(int pid) => Volatile.Write(ref child, pid);

        private void Forward(PosixSignalContext context, int signal)
        {
            int pid = Volatile.Read(ref child);
            if (pid > 0)
            {
                context.Cancel = true;
                _ = Libc.Kill(pid, signal);
            }
        }

        public void Dispose()
        {
            foreach (var r in registrations)
            {
                r.Dispose();
            }
        }
    }
}
