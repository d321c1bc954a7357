using System.Collections.Concurrent;
using Cordon.Interop;
using Cordon.Policy;
using Cordon.Seccomp;

namespace Cordon.Supervisor;

/// <summary>Told about every decision, for denial messages now and the audit log later.</summary>
public interface IDecisionObserver
{
    void OnDecision(Request request, Decision decision);

    /// <summary>Something went wrong that a person should know about (a killed process, an undecidable call).</summary>
    void OnIncident(string message);
}

/// <summary>
/// Receives trapped system calls from the seccomp listener and answers each one: decided by the policy, and, where
/// the kernel would otherwise re-read the caller's memory after our check, performed here on cordon's own copy.
/// An over-deny is a functional gap; an over-allow is an escape. Where the two conflict, this code denies.
/// </summary>
internal sealed partial class Supervisor
{
    private readonly SafeFd listener;
    private readonly Policy.Policy policy;
    private readonly IDecisionObserver observer;
    private readonly ConcurrentDictionary<int, byte> members = new();
    private readonly ConcurrentDictionary<int, ExecApproval> pendingExecs = new();
    private int sandboxRoot;
    private readonly TaskCompletionSource ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int loops;

    public Supervisor(SafeFd listener, Policy.Policy policy, IDecisionObserver observer)
    {
        this.listener = listener;
        this.policy = policy;
        this.observer = observer;
        reader = Reader();
    }

    /// <summary>Who the base rules stand for when cordon opens files as root; null when the kernel checks that itself.</summary>
    private readonly InvokingUser? reader;

    private static InvokingUser? Reader()
    {
        if (Libc.GetEUid() != 0)
        {
            return null; // cordon's own opens are the user's: the kernel refuses what they could not read
        }

        return SystemPathResolver.SudoUser() is var (uid, gid) ? InvokingUser.Of(uid, Groups.Of(uid, gid) ?? [gid]) : InvokingUser.Others;
    }

    /// <summary>The reaper (the launcher after its fork): every process of the sandbox descends from it.</summary>
    public int SandboxRoot
    {
        get => Volatile.Read(ref sandboxRoot);
        set => Volatile.Write(ref sandboxRoot, value);
    }

    /// <summary>The sandbox's reaper: the launcher itself, or in the view engine the pid namespace's first process.</summary>
    public int Reaper { get; init; }

    /// <summary>The view engine's session (docs/view.md); null under the seccomp engine.</summary>
    internal View.ViewSession? View { get; init; }

    /// <summary>Notifications answered so far (for tests and benchmarks).</summary>
    public long Handled => Interlocked.Read(ref handled);

    private long handled;

    /// <summary>
    /// How many threads receive notifications: one per CPU, up to four. Calls of different threads of the sandbox
    /// are then answered at the same time (a parallel build waited in one queue before); each call is still
    /// answered exactly once (RECV hands a notification to one receiver), and calls of one thread come one at a
    /// time anyway (it waits for each answer). CORDON_NOTIFY_THREADS=N (1 to 64) overrides it: the benchmarks
    /// compare.
    /// </summary>
    public static int LoopCount { get; } =
        int.TryParse(Environment.GetEnvironmentVariable("CORDON_NOTIFY_THREADS"), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int n) && n is >= 1 and <= 64
            ? n
            : Math.Clamp(Environment.ProcessorCount, 1, 4);

    /// <summary>
    /// The first notification loop's thread, started before the listener exists (see <see cref="ReadyThreads"/>); the
    /// others start once the program is on its way (<see cref="StartAllLoops"/>).
    /// </summary>
    internal static ReadyThreads LoopThreads() => new("cordon-notify-", 1);

    private ReadyThreads? loopThreads;

    /// <summary>Starts answering: on <paramref name="threads"/> (from <see cref="LoopThreads"/>), or on new ones.</summary>
    internal void Start(ReadyThreads? threads = null)
    {
        loopThreads = threads ?? new ReadyThreads("cordon-notify-", LoopCount);
        loops = LoopCount;
        loopThreads.Run(Loop);
    }

    /// <summary>Starts the rest of the <see cref="LoopCount"/> loops (a run calls it after the program was let go).</summary>
    internal void StartAllLoops() => loopThreads?.Grow(LoopCount);

    /// <summary>Waits until every process under the filter is gone (the listener reports POLLHUP).</summary>
    public bool WaitForEnd(TimeSpan timeout) => loops == 0 || ended.Task.Wait(timeout);

    private void Loop()
    {
        try
        {
            var pfd = new PollFd { Fd = listener.Fd, Events = Kernel.POLLIN };
            while (true)
            {
                pfd.REvents = 0;
                int r = Libc.Poll(ref pfd, 1, -1);
                if (r < 0)
                {
                    if (Io.LastErrno == Errno.EINTR)
                    {
                        continue;
                    }

                    throw new ErrnoException("poll(listener)", Io.LastErrno);
                }

                if ((pfd.REvents & Kernel.POLLIN) != 0)
                {
                    var err = SeccompListener.Receive(listener, out var notif);
                    if (err == Errno.None)
                    {
                        Dispatch(notif);
                    }
                    else if (err is not (Errno.ENOENT or Errno.EINTR))
                    {
                        // ENOENT: the caller was interrupted before we read the notification. Anything else
                        // means the listener itself is broken: we can no longer answer anybody.
                        throw new ErrnoException("SECCOMP_IOCTL_NOTIF_RECV", err);
                    }

                    continue;
                }

                // No caller left: a blocking RECV would never return after the last process exits
                // (kernel-facts.md), so the loop ends on POLLHUP instead. (A loop that lost the race for the last
                // notification to another one waits in RECV for ever: a background thread, gone with cordon.)
                if ((pfd.REvents & (Kernel.POLLHUP | Kernel.POLLERR | Kernel.POLLNVAL)) != 0)
                {
                    ended.TrySetResult();
                    return;
                }
            }
        }
        catch (Exception e)
        {
            // A loop that silently stops answering would hang every process of the sandbox: fail fast instead.
            // The launcher's reaper then loses its parent and kills the sandbox.
            Environment.FailFast("cordon: the notification loop failed: " + e);
        }
    }

    private void Dispatch(SeccompNotif notif)
    {
        var call = new Call(listener, notif);
        if (!members.ContainsKey(call.Tid))
        {
            // TryAdd takes a lock even when the key is there; the lookup does not, and nearly every call finds it.
            members.TryAdd(call.Tid, 0);
        }

        ValueTask task;
        try
        {
            if (!pendingExecs.IsEmpty && pendingExecs.TryRemove(call.Tid, out var approval) && !VerifyExec(call, approval))
            {
                return;
            }

            task = Handle(call);
        }
        catch (Exception e)
        {
            Abandon(call, e);
            return;
        }

        if (task.IsCompletedSuccessfully)
        {
            Finish(call);
        }
        else
        {
            _ = Complete(call, task);
        }
    }

    private async Task Complete(Call call, ValueTask task)
    {
        try
        {
            await task.ConfigureAwait(false);
            Finish(call);
        }
        catch (Exception e)
        {
            Abandon(call, e);
        }
    }

    private void Finish(Call call)
    {
        if (!call.Answered)
        {
            observer.OnIncident($"internal error: {SyscallNames.Name(call.Nr)} from pid {call.Tid} was left unanswered; denied");
            call.Fail(Errno.EIO);
        }

        Interlocked.Increment(ref handled);
    }

    private void Abandon(Call call, Exception e)
    {
        // Fail closed: an exception is a decision we could not make.
        observer.OnIncident($"internal error deciding {SyscallNames.Name(call.Nr)} from pid {call.Tid}: {e.Message}; denied");
        call.Fail(Errno.EIO);
        Interlocked.Increment(ref handled);
    }

    private ValueTask Handle(Call c)
    {
        switch ((Sys)c.Nr)
        {
            case Sys.Open:
                return Open(c, Kernel.AT_FDCWD, c.Args[0], c.IntArg(1), (uint)c.Args[2], 0);
            case Sys.Creat:
                return Open(c, Kernel.AT_FDCWD, c.Args[0], Kernel.O_CREAT | Kernel.O_WRONLY | Kernel.O_TRUNC, (uint)c.Args[1], 0);
            case Sys.Openat:
                return Open(c, c.IntArg(0), c.Args[1], c.IntArg(2), (uint)c.Args[3], 0);
            case Sys.Openat2:
                return Openat2(c);
            case Sys.Unlink:
                return Remove(c, Kernel.AT_FDCWD, c.Args[0], 0);
            case Sys.Rmdir:
                return Remove(c, Kernel.AT_FDCWD, c.Args[0], Kernel.AT_REMOVEDIR);
            case Sys.Unlinkat:
                return Remove(c, c.IntArg(0), c.Args[1], c.IntArg(2));
            case Sys.Mkdir:
                return MakeNode(c, Kernel.AT_FDCWD, c.Args[0], Kernel.S_IFDIR | ((uint)c.Args[1] & 0xFFF), 0);
            case Sys.Mkdirat:
                return MakeNode(c, c.IntArg(0), c.Args[1], Kernel.S_IFDIR | ((uint)c.Args[2] & 0xFFF), 0);
            case Sys.Mknod:
                return MakeNode(c, Kernel.AT_FDCWD, c.Args[0], (uint)c.Args[1], c.Args[2]);
            case Sys.Mknodat:
                return MakeNode(c, c.IntArg(0), c.Args[1], (uint)c.Args[2], c.Args[3]);
            case Sys.Rename:
                return Rename(c, Kernel.AT_FDCWD, c.Args[0], Kernel.AT_FDCWD, c.Args[1], 0);
            case Sys.Renameat:
                return Rename(c, c.IntArg(0), c.Args[1], c.IntArg(2), c.Args[3], 0);
            case Sys.Renameat2:
                return Rename(c, c.IntArg(0), c.Args[1], c.IntArg(2), c.Args[3], (uint)c.Args[4]);
            case Sys.Link:
                return Link(c, Kernel.AT_FDCWD, c.Args[0], Kernel.AT_FDCWD, c.Args[1], 0);
            case Sys.Linkat:
                return Link(c, c.IntArg(0), c.Args[1], c.IntArg(2), c.Args[3], c.IntArg(4));
            case Sys.Symlink:
                return Symlink(c, c.Args[0], Kernel.AT_FDCWD, c.Args[1]);
            case Sys.Symlinkat:
                return Symlink(c, c.Args[0], c.IntArg(1), c.Args[2]);
            case Sys.Chmod:
                return Chmod(c, Kernel.AT_FDCWD, c.Args[0], (uint)c.Args[1], 0, fdOnly: false);
            case Sys.Fchmod:
                return Chmod(c, c.IntArg(0), 0, (uint)c.Args[1], Kernel.AT_EMPTY_PATH, fdOnly: true);
            case Sys.Fchmodat:
                return Chmod(c, c.IntArg(0), c.Args[1], (uint)c.Args[2], 0, fdOnly: false);
            case Sys.Fchmodat2:
                return Chmod(c, c.IntArg(0), c.Args[1], (uint)c.Args[2], c.IntArg(3), fdOnly: false);
            case Sys.Chown:
                return Chown(c, Kernel.AT_FDCWD, c.Args[0], (uint)c.Args[1], (uint)c.Args[2], 0, fdOnly: false);
            case Sys.Lchown:
                return Chown(c, Kernel.AT_FDCWD, c.Args[0], (uint)c.Args[1], (uint)c.Args[2], Kernel.AT_SYMLINK_NOFOLLOW, fdOnly: false);
            case Sys.Fchown:
                return Chown(c, c.IntArg(0), 0, (uint)c.Args[1], (uint)c.Args[2], Kernel.AT_EMPTY_PATH, fdOnly: true);
            case Sys.Fchownat:
                return Chown(c, c.IntArg(0), c.Args[1], (uint)c.Args[2], (uint)c.Args[3], c.IntArg(4), fdOnly: false);
            case Sys.Truncate:
                return Truncate(c, c.Args[0], (long)c.Args[1]);
            case Sys.Utime:
                return Utimes(c, Kernel.AT_FDCWD, c.Args[0], c.Args[1], 0, TimesFormat.Utimbuf);
            case Sys.Utimes:
                return Utimes(c, Kernel.AT_FDCWD, c.Args[0], c.Args[1], 0, TimesFormat.Timeval);
            case Sys.Futimesat:
                return Utimes(c, c.IntArg(0), c.Args[1], c.Args[2], 0, TimesFormat.Timeval);
            case Sys.Utimensat:
                return Utimes(c, c.IntArg(0), c.Args[1], c.Args[2], c.IntArg(3), TimesFormat.Timespec);
            case Sys.Setxattr:
            case Sys.Lsetxattr:
            case Sys.Fsetxattr:
            case Sys.Removexattr:
            case Sys.Lremovexattr:
            case Sys.Fremovexattr:
            case Sys.Setxattrat:
            case Sys.Removexattrat:
                return Xattr(c);
            case Sys.Execve:
                return Exec(c, Kernel.AT_FDCWD, c.Args[0], c.Args[1], 0);
            case Sys.Execveat:
                return Exec(c, c.IntArg(0), c.Args[1], c.Args[2], c.IntArg(4));
            case Sys.Connect:
                return Connect(c);
            case Sys.Bind:
                return Bind(c);
            case Sys.Listen:
                return Listen(c);
            case Sys.Sendto:
                return SendTo(c);
            case Sys.Sendmsg:
                return SendMsg(c);
            case Sys.Sendmmsg:
                return SendMMsg(c);
            case Sys.Prlimit64:
            case Sys.SchedSetaffinity:
            case Sys.SchedSetscheduler:
            case Sys.SchedSetparam:
            case Sys.SchedSetattr:
                return OtherProcess(c, c.IntArg(0));
            case Sys.Setpriority:
            case Sys.IoprioSet:
                return OtherProcess(c, c.IntArg(1));
            default:
                // The filter traps only the calls above; anything else reaching us is a mismatch between the
                // filter and this switch. Deny rather than guess.
                observer.OnIncident($"unexpected trapped call {SyscallNames.Name(c.Nr)}; denied");
                c.Fail(Errno.ENOSYS);
                return ValueTask.CompletedTask;
        }
    }

    /// <summary>Whether <paramref name="pid"/> is a process of this sandbox (a descendant of its root).</summary>
    public bool IsMember(int pid)
    {
        if (members.ContainsKey(pid))
        {
            return true;
        }

        int root = SandboxRoot;
        for (int p = pid, hops = 0; p > 1 && hops < 256; hops++)
        {
            if (p == root)
            {
                members.TryAdd(pid, 0);
                return true;
            }

            int? parent = ProcFs.ParentPid(p);
            if (parent is null)
            {
                return false;
            }

            p = parent.Value;
        }

        return false;
    }

    private Subject SubjectOf(Call c) => SubjectOf(c.Tid);

    private Subject SubjectOf(int tid)
    {
        var process = new ProcessSummary(() => ProcFs.Tgid(tid), () => Details(tid));
        return new Subject(process, tid, () => Ancestry(process), IsMember);
    }

    private static (string?, IReadOnlyList<string>) Details(int pid) => (ProcFs.Exe(pid), ProcFs.Cmdline(pid));

    private List<ProcessSummary> Ancestry(ProcessSummary process)
    {
        int root = SandboxRoot, reaper = Reaper;
        return Ancestry(process, pid => pid == root || pid == reaper);
    }

    /// <summary>
    /// The processes between the sandbox's top (<paramref name="isTop"/>, not shown) and <paramref name="process"/>,
    /// nearest first: the prompt's "via" line. Both engines use it.
    /// </summary>
    internal static List<ProcessSummary> Ancestry(ProcessSummary process, Func<int, bool> isTop)
    {
        var chain = new List<ProcessSummary>();
        int pid = process.Pid;
        while (!isTop(pid) && chain.Count < 64)
        {
            int? parent = ProcFs.ParentPid(pid);
            if (parent is null or <= 1 || isTop(parent.Value))
            {
                break;
            }

            int p = parent.Value;
            chain.Add(new ProcessSummary(p, ProcFs.Exe(p), ProcFs.Cmdline(p)));
            pid = p;
        }

        return chain;
    }

    /// <summary>How often a pending question checks that its asker is still waiting in its system call.</summary>
    private static readonly TimeSpan AskerCheck = TimeSpan.FromMilliseconds(250);

    private Task<Decision> DecideSlowlyAsync(Call c, Request request) => DecideWhileAskedAsync(policy, request, c.StillValid);

    /// <summary>
    /// Asks the policy (perhaps a person), and withdraws the question when <paramref name="stillAsking"/> says the
    /// asker stopped waiting (killed, or its whole program exited): checked every <see cref="AskerCheck"/>.
    /// Both engines use it.
    /// </summary>
    internal static async Task<Decision> DecideWhileAskedAsync(Policy.Policy policy, Request request, Func<bool> stillAsking)
    {
        using var gone = new CancellationTokenSource();
        var decided = policy.DecideAsync(request, gone.Token).AsTask();
        while (!decided.IsCompleted)
        {
            await Task.WhenAny(decided, Task.Delay(AskerCheck)).ConfigureAwait(false);
            if (!decided.IsCompleted && !stillAsking())
            {
                await gone.CancelAsync().ConfigureAwait(false);
                break;
            }
        }

        try
        {
            return await decided.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return Decision.Error("the process stopped waiting for an answer");
        }
    }

    /// <summary>Tells the observer of a request cordon refuses before any rule is asked (what no rule may allow).</summary>
    private void Refuse(Call c, AccessKind kind, Operation op, string resource, string? requested, string why)
    {
        var request = new Request(kind, op, resource, requested == resource ? null : requested, SubjectOf(c), null);
        _ = request.Subject.Process.Exe;
        observer.OnDecision(request, new Decision(Verdict.Deny, DecisionSource.Sandbox, why));
    }

    /// <summary>Asks the policy, tells the observer, and returns whether the request is allowed.</summary>
    private async ValueTask<bool> Allowed(Call c, AccessKind kind, Operation op, string resource, string? requested, NetTarget? net = null, bool directory = false, bool unreadable = false)
    {
        var request = new Request(kind, op, resource, requested == resource ? null : requested, SubjectOf(c), net) { MakesDirectory = directory, UnreadableByUser = unreadable };
        Decision decision;
        try
        {
            // Rules answer at once (the hot path: no allocation, no token). Only a question to a person waits, and
            // then the wait is abandoned if the asking thread goes away (killed, or its whole program exited).
            var matched = policy.Match(request);
            if (kind == AccessKind.Write && matched is not { Allowed: true } && matched?.Source is not (DecisionSource.Flag or DecisionSource.Profile)
                && KernelRefuses(op, resource) is { } why)
            {
                // Asking would be for nothing (and the LSM engine's hooks never see such a call either).
                matched = new Decision(Verdict.Deny, DecisionSource.Kernel, why);
            }

            decision = matched ?? await DecideSlowlyAsync(c, request).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            decision = Decision.Error("policy failed: " + e.Message);
        }

        return Reported(request, decision);
    }

    private static readonly bool Unprivileged = Libc.GetEUid() != 0;

    /// <summary>
    /// Why the kernel would refuse a change to <paramref name="resource"/> to an ordinary user (who cordon and the
    /// program both are): no write and search permission on the folder that holds a name to create, remove or
    /// rename, or no write permission on a file to change; or a read-only file system. Null when it would not, when
    /// that is not known (a missing folder, a sticky one, attributes, the source of a hard link: its owner may link a
    /// file it cannot write), and always for root.
    /// </summary>
    internal static string? KernelRefuses(Operation op, string resource)
    {
        if (!Unprivileged || !resource.StartsWith('/'))
        {
            return null;
        }

        string target;
        int mode;
        switch (op)
        {
            case Operation.Write:
                target = resource;
                mode = Kernel.W_OK;
                break;
            case Operation.Create or Operation.Delete or Operation.Rename:
                target = Descriptor.Parent(resource) ?? "/";
                mode = Kernel.W_OK | Kernel.X_OK;
                break;
            default:
                return null;
        }

        if (Libc.Access(target, mode) == 0)
        {
            return null;
        }

        return Io.LastErrno switch
        {
            Errno.EACCES => $"the user may not write in {target}: the kernel refuses it without cordon",
            Errno.EROFS => $"{target} is on a read-only file system",
            _ => null,
        };
    }

    /// <summary>Tells the observer of a decision and returns whether it allows (both engines' ways of deciding end here).</summary>
    private bool Reported(Request request, Decision decision)
    {
        if (!decision.Allowed)
        {
            // Denials are rare and get reported: read who asked while the caller is still held in its call.
            _ = request.Subject.Process.Exe;
        }

        observer.OnDecision(request, decision);
        return decision.Allowed;
    }
}
