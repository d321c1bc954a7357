using Cordon.Interop;
using Cordon.Policy;

namespace Cordon.Supervisor.View;

/// <summary>
/// Binds into the running view the trees that rules added during the run allow (a folder answer, a built-in set
/// whose tool started), so that later reads there are the kernel's, not the mirror's (docs/view.md, "How a folder
/// answer enters the running view"). The plan is the launch's (<see cref="ViewPlan.Binds"/>) computed again; every
/// bind not already inside one goes to the outer launcher on the binder socket, which copies the host's tree and
/// attaches it in the view's mount namespace. Until a bind is in place the mirror serves the same paths by the same
/// rules, so nothing waits for it, and a bind that fails only leaves those reads slower.
/// </summary>
internal sealed class ViewBinder : IDisposable
{
    /// <summary>At most this many binds are added while a program runs (each is a mount in the view).</summary>
    public const int MaxRuntimeBinds = 256;

    private static readonly int ReplyTimeoutMs = 10_000;

    /// <summary>
    /// CORDON_TEST_BIND_DELAY_MS: a pause before each bind is sent, which the attack tests use to change the host's
    /// tree after the plan saw it; it widens a window that exists anyway, and only the user who starts cordon sets it.
    /// </summary>
    private static readonly int? TestDelay =
        int.TryParse(Environment.GetEnvironmentVariable("CORDON_TEST_BIND_DELAY_MS"), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int ms) && ms is > 0 and <= 60_000 ? ms : null;
    private readonly SafeFd socket;
    private readonly Policy.Policy policy;
    private readonly ViewFileSystem mirror;
    private readonly IHostTree host;
    private readonly IDecisionObserver observer;
    private readonly bool asRoot;
    private readonly List<string> bound;
    private readonly object gate = new();
    private bool running;
    private bool again;
    private bool broken;
    private int added;

    public ViewBinder(SafeFd socket, Policy.Policy policy, ViewFileSystem mirror, IHostTree host, IDecisionObserver observer, bool asRoot, IEnumerable<string> bound)
    {
        this.socket = socket;
        this.policy = policy;
        this.mirror = mirror;
        this.host = host;
        this.observer = observer;
        this.asRoot = asRoot;
        this.bound = [.. bound];
        policy.RulesChanged += OnRulesChanged;
    }

    /// <summary>The trees bound at launch and since.</summary>
    public IReadOnlyList<string> Bound
    {
        get
        {
            lock (gate)
            {
                return [.. bound];
            }
        }
    }

    public void Dispose()
    {
        policy.RulesChanged -= OnRulesChanged;
        socket.Dispose();
    }

    private void OnRulesChanged()
    {
        lock (gate)
        {
            if (broken)
            {
                return;
            }

            if (running)
            {
                again = true;
                return;
            }

            running = true;
            _ = Task.Run(Pass);
        }
    }

    private void Pass()
    {
        while (true)
        {
            try
            {
                BindNew();
            }
            catch (Exception e) when (e is SandboxException or IOException or ObjectDisposedException or ArgumentException)
            {
                lock (gate)
                {
                    broken = true; // the launcher is gone or confused: the mirror keeps serving by the rules
                }
            }

            lock (gate)
            {
                if (!again || broken)
                {
                    running = false;
                    return;
                }

                again = false;
            }
        }
    }

    private void BindNew()
    {
        foreach (var (path, readOnly) in ViewPlan.Binds(policy, host, asRoot))
        {
            lock (gate)
            {
                if (broken || added >= MaxRuntimeBinds || bound.Any(b => Descriptor.InTree(b, path)))
                {
                    continue;
                }
            }

            // Before the mount sits on its entry (a file's too, as at launch: ViewPlan.MountPoints): a revalidation
            // that failed would detach it.
            mirror.Pin(path);

            if (TestDelay is { } delay)
            {
                Thread.Sleep(delay); // the attack tests' window between the plan (an lstat) and the launcher's copy
            }

            Sandbox.SendPacket(socket, System.Text.Encoding.UTF8.GetBytes($"bind\t{path}\t{(readOnly ? "ro,nodev" : "nodev")}"));
            var reply = Receive() ?? throw new SandboxException("the launcher did not answer a bind");
            lock (gate)
            {
                added++;
                if (reply == "bound")
                {
                    bound.Add(path);
                }
            }

            if (reply == "bound")
            {
                Logged(policy, observer, path, "bound into the running view");
            }
        }
    }

    /// <summary>Records a bind's decision once, when it is made (the audit log's line for every read it serves).</summary>
    public static void Logged(Policy.Policy policy, IDecisionObserver observer, string path, string how)
    {
        var request = ViewPlan.LaunchRequest(AccessKind.Read, path);
        if (policy.Match(request) is { } decision)
        {
            observer.OnDecision(request, decision with { Rule = $"{decision.Rule} ({how})" });
        }
    }

    private string? Receive()
    {
        var poll = new PollFd { Fd = socket.Fd, Events = Kernel.POLLIN };
        while (true)
        {
            int n = Libc.Poll(ref poll, 1, ReplyTimeoutMs);
            if (n < 0 && Io.LastErrno == Errno.EINTR)
            {
                continue;
            }

            return n == 1 ? Sandbox.ReceiveLine(socket) : null;
        }
    }
}
