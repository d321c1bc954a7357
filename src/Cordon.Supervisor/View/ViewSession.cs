using System.Globalization;
using System.Text;
using Cordon.Interop;
using Cordon.Policy;

namespace Cordon.Supervisor.View;

/// <summary>
/// cordon's side of building a view (docs/view.md, native/launcher/README.md "The view"): writes the launcher's id
/// maps, takes its FUSE device and serves the mirror on it, sends the plan of mounts, and then decides the mirror's
/// opens through the supervisor, as the seccomp engine decides a trapped open.
/// </summary>
internal sealed class ViewSession : IViewDecider, IDisposable
{
    private static readonly Errno Denied = Errno.EACCES;
    private ViewFileSystem? mirror;
    private volatile Supervisor? supervisor;

    private ViewSession()
    {
    }

    /// <summary>The pid namespace's first process (the sandbox's reaper), as cordon sees it.</summary>
    public int ReaperPid { get; private set; }

    /// <summary>The trees the kernel serves itself (bind mounts): decided at launch, and added to by later rules.</summary>
    public IReadOnlyList<string> Bound => binder?.Bound ?? [];

    private ViewBinder? binder;

    /// <summary>The view's FUSE device (major, minor), for the exec image check.</summary>
    public (uint, uint)? MirrorDevice { get; set; }

    /// <summary>
    /// Builds the view with the launcher (<paramref name="launcherPid"/>, started with --view), and sends it
    /// <paramref name="filter"/> after the plan, for the pid namespace's first process to install once the view is
    /// its root. <paramref name="meanwhile"/> runs while the launcher makes the FUSE connection (more of cordon's
    /// own start-up work).
    /// </summary>
    public static ViewSession Build(int launcherPid, Policy.Policy policy, IDecisionObserver observer, string? terminal, Func<string?> receive, Action<byte[]> send, byte[] filter, Action meanwhile)
    {
        var session = new ViewSession();
        ReadyThreads? readers = null;
        try
        {
            // What needs nothing from the launcher is done while it works on another CPU: the plan (of the rules as
            // they are now: a rule added later is bound later, as an answer's is) while it execs, the threads while
            // it makes the FUSE connection.
            bool root = Libc.GetEUid() == 0;
            var host = new PlanTree();
            var steps = ViewPlan.Build(policy, host, root, terminal);
            StartupTrace.Mark("view planned");
            readers = ViewFileSystem.ReaderThreads();
            meanwhile();
            var fuse = Expect(launcherPid, receive(), "fuse").Split(' ');
            if (fuse.Length != 2)
            {
                throw Sandbox.Failed(launcherPid, "unexpected message from the launcher: fuse " + string.Join(' ', fuse));
            }

            StartupTrace.Mark("fuse connection");
            var device = new SafeFd(Sandbox.TakeFd(launcherPid, int.Parse(fuse[0], CultureInfo.InvariantCulture), "the FUSE device"));
            var binderSocket = new SafeFd(Sandbox.TakeFd(launcherPid, int.Parse(fuse[1], CultureInfo.InvariantCulture), "the binder socket"));
            session.mirror = new ViewFileSystem(device, session, "/", readers);
            readers = null;
            foreach (var dir in ViewPlan.MountPoints(steps))
            {
                session.mirror.Pin(dir);
            }

            send("serving"u8.ToArray());
            send(Encoding.UTF8.GetBytes(string.Join('\n', steps.Select(s => s.Line)) + "\n"));
            send(filter);
            StartupTrace.Mark("plan sent");
            session.ReaperPid = int.Parse(Expect(launcherPid, receive(), "reaper"), CultureInfo.InvariantCulture);
            StartupTrace.Mark("view built");
            var bound = new List<string>();
            foreach (var s in steps)
            {
                if (s.Verb == "bind" && !s.Path.StartsWith("/dev/", StringComparison.Ordinal))
                {
                    bound.Add(s.Path);
                }
            }

            session.binder = new ViewBinder(binderSocket, policy, session.mirror, host, observer, root, bound);
            foreach (var path in bound)
            {
                ViewBinder.Logged(policy, observer, path, "bound into the view at launch");
            }

            return session;
        }
        catch
        {
            readers?.Release();
            session.Dispose();
            throw;
        }
    }

    public void Attach(Supervisor s) => supervisor = s;

    /// <summary>The program is on its way: the mirror's other readers start (one served the view's build).</summary>
    public void ProgramStarting() => mirror?.StartAllReaders();

    /// <summary>cordon changed <paramref name="hostPath"/> on the host (see <see cref="ViewFileSystem.Invalidate"/>).</summary>
    public void Changed(string hostPath) => mirror?.Invalidate(hostPath);

    /// <summary>The program got a descriptor of <paramref name="hostPath"/> open for writing (see <see cref="ViewFileSystem.OpenedForWriting"/>).</summary>
    public void OpenedForWriting(string hostPath, in Stat st) => mirror?.OpenedForWriting(hostPath, st);

    public ValueTask<Errno> DecideOpenAsync(string hostPath, uint tid, ViewOpenKind kind, CancellationToken cancel) =>
        supervisor is { } s ? s.DecideViewOpen(hostPath, (int)tid, kind, cancel) : ValueTask.FromResult(Denied);

    /// <summary>
    /// The host's pid of the process the view's pid namespace calls <paramref name="nsPid"/> (1 is the reaper), found
    /// by its NSpid line among the host's processes; null when no process of the sandbox has it.
    /// </summary>
    public int? HostPid(int nsPid, int reaper)
    {
        if (nsPid == 1)
        {
            return reaper;
        }

        if (hostPids.TryGetValue(nsPid, out int known) && NamespacePidOf(known) == nsPid)
        {
            return known;
        }

        var ns = ProcFs.ReadLink($"/proc/{reaper}/ns/pid");
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out int pid)
                && NamespacePidOf(pid) == nsPid && ns is not null && ProcFs.ReadLink($"/proc/{pid}/ns/pid") == ns)
            {
                hostPids[nsPid] = pid;
                return pid;
            }
        }

        return null;
    }

    private readonly System.Collections.Concurrent.ConcurrentDictionary<int, int> hostPids = new();

    /// <summary>The innermost pid of a host process in another pid namespace (the last of its NSpid line), or null.</summary>
    private static int? NamespacePidOf(int hostPid)
    {
        var fields = ProcFs.StatusText(hostPid, "NSpid")?.Split(['\t', ' '], StringSplitOptions.RemoveEmptyEntries);
        return fields is { Length: >= 2 } && int.TryParse(fields[^1], NumberStyles.None, CultureInfo.InvariantCulture, out int n) ? n : null;
    }

    /// <summary>The reaper's one child: the program, by the pid cordon knows it by.</summary>
    public static int? OnlyChild(int reaper)
    {
        var text = ProcFs.ReadText($"/proc/{reaper}/task/{reaper}/children");
        var first = text?.Split(' ', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault();
        return int.TryParse(first, NumberStyles.None, CultureInfo.InvariantCulture, out int pid) ? pid : null;
    }

    public void Dispose() => Close(TimeSpan.FromSeconds(5));

    /// <summary>Ends the binder and the mirror, waiting at most <paramref name="wait"/> for its readers to stop.</summary>
    public void Close(TimeSpan wait)
    {
        binder?.Dispose();
        mirror?.Close(wait);
    }

    /// <summary>The launcher's next message must start with <paramref name="word"/>; returns the rest.</summary>
    private static string Expect(int launcherPid, string? line, string word)
    {
        if (line is null)
        {
            throw Sandbox.Failed(launcherPid, "the launcher stopped while building the view");
        }

        if (line.StartsWith("viewfail ", StringComparison.Ordinal))
        {
            _ = Libc.Kill(launcherPid, Kernel.SIGKILL);
            throw new ViewUnavailableException(line["viewfail ".Length..]);
        }

        if (line.StartsWith("fail ", StringComparison.Ordinal))
        {
            throw Sandbox.LauncherFailed(launcherPid, line["fail ".Length..]);
        }

        if (line != word && !line.StartsWith(word + " ", StringComparison.Ordinal))
        {
            throw Sandbox.Failed(launcherPid, "unexpected message from the launcher: " + line);
        }

        return line.Length > word.Length ? line[(word.Length + 1)..] : "";
    }

    /// <summary>The host's file system, for the plan (lstat and a directory listing).</summary>
    private sealed class PlanTree : IHostTree
    {
        public HostEntry Kind(string path)
        {
            if (Libc.FStatAt(Kernel.AT_FDCWD, PathBytes.Z(path), out var st, Kernel.AT_SYMLINK_NOFOLLOW) != 0)
            {
                return HostEntry.Missing;
            }

            return (st.Mode & Kernel.S_IFMT) switch
            {
                Kernel.S_IFDIR => HostEntry.Directory,
                Kernel.S_IFREG => HostEntry.File,
                _ => HostEntry.Other,
            };
        }

        public IEnumerable<string> Children(string directory)
        {
            // Up to what the plan reads (IHostTree): /etc, which every run's plan looks at, has 150 names.
            var names = new List<string>();
            try
            {
                foreach (var entry in Directory.EnumerateFileSystemEntries(directory))
                {
                    names.Add(Path.GetFileName(entry));
                    if (names.Count > ViewPlan.MaxSplit)
                    {
                        break;
                    }
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return [];
            }

            return names;
        }
    }
}
