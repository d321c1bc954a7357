using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Cordon.Interop;
using Cordon.Policy;

namespace Cordon.Supervisor.Lsm;

/// <summary>
/// The LSM engine (root, Linux 6.12 or later with "bpf" in the active LSM list): BPF programs at the kernel's
/// security hooks decide for every process of the sandbox's cgroup. A verdict cordon stored in a BPF map is applied
/// in the kernel; anything else is asked through <see cref="HelperFileSystem"/>, decided here by the same policy,
/// prompts, profiles and log as the seccomp engine, and answered. This class holds no policy either: it turns a
/// kernel request into a <see cref="Request"/> and the decision into a verdict.
/// </summary>
public sealed class LsmEngine : IDisposable
{
    /// <summary>Operation numbers shared with native/lsm/cordon.bpf.c (enum cordon_op).</summary>
    private static readonly Dictionary<uint, (AccessKind Kind, Operation Op)> Operations = new()
    {
        [1] = (AccessKind.Read, Operation.Read),
        [2] = (AccessKind.Write, Operation.Write),
        [4] = (AccessKind.Run, Operation.Exec),
        [8] = (AccessKind.Write, Operation.Create),
        [16] = (AccessKind.Write, Operation.Delete),
        [32] = (AccessKind.Write, Operation.Link),
        [64] = (AccessKind.Write, Operation.Rename),
        [128] = (AccessKind.Write, Operation.Attributes),
        [256] = (AccessKind.Net, Operation.Connect),
        [512] = (AccessKind.Net, Operation.Bind),
        [1024] = (AccessKind.Net, Operation.Send),
    };
    private const int MNT_DETACH = 2;

    private readonly Policy.Policy policy;
    private readonly IDecisionObserver observer;
    private readonly string runDir;
    private readonly string cgroup;
    private LsmPrograms? programs;
    private ulong cgroupId;
    private bool registered;
    private HelperFileSystem? fs;
    private int helperPid;
    private readonly Lock foldersGate = new();
    private HashSet<(ulong Mnt, ulong Ino, uint Op)> granted = [];
    private uint grantedGen;

    private LsmEngine(Policy.Policy policy, IDecisionObserver observer, string runDir, string cgroup)
    {
        this.policy = policy;
        this.observer = observer;
        this.runDir = runDir;
        this.cgroup = cgroup;
    }

    /// <summary>Where the BPF object and the helper executable are looked for: next to cordon.</summary>
    public static string NativeDirectory => AppContext.BaseDirectory;

    /// <summary>Why the LSM engine cannot run here (the cheap checks, <see cref="LsmAvailability"/>), or null when it may.</summary>
    public static string? Unavailable() => LsmAvailability.Unavailable();

    /// <summary>
    /// `--engine auto`: the LSM engine when it starts, else null. Where the cheap checks already rule it out (an
    /// ordinary user, no BPF LSM, no BPF file system, not built) the seccomp engine is simply what "auto" means, and
    /// nothing is said (`cordon doctor` says why). Where they pass and the engine still fails, which a user running as
    /// root expects least (a kernel that refuses the programs, as under lockdown), <paramref name="fellBack"/> hears
    /// why, in one line, at every run. A refusal costs one failed load per boot: later runs find it remembered.
    /// </summary>
    public static LsmEngine? StartIfPossible(Policy.Policy policy, IDecisionObserver observer, Action<string> fellBack)
    {
        if (LsmAvailability.Unavailable(withMemo: false) is not null)
        {
            return null;
        }

        try
        {
            return Start(policy, observer);
        }
        catch (SandboxException e)
        {
            fellBack(e.Message);
            return null;
        }
    }

    /// <summary>Loads and attaches the BPF programs, mounts the file system and starts the helper.</summary>
    public static LsmEngine Start(Policy.Policy policy, IDecisionObserver observer)
    {
        if (Unavailable() is { } why)
        {
            throw new SandboxException("the LSM engine cannot run here: " + why);
        }

        var (mount, rootLevel) = CgroupRoot()!.Value;
        int me = Libc.GetPid();
        string runDir = $"/run/cordon-{me}";
        string cgroup = Path.Combine(mount, $"cordon-{me}");
        var engine = new LsmEngine(policy, observer, runDir, cgroup);
        try
        {
            engine.Setup(rootLevel);
            return engine;
        }
        catch (LsmRefusedException e)
        {
            engine.Dispose();
            LsmAvailability.Remember(e.Message);
            throw new SandboxException("the LSM engine cannot run here: " + e.Message);
        }
        catch (Exception e)
        {
            engine.Dispose();
            throw e is SandboxException ? e : new SandboxException("the LSM engine could not start: " + e.Message);
        }
    }

    private unsafe void Setup(int rootLevel)
    {
        // Only root may enter the run directory: the sandbox's processes (the invoking user) cannot reach the mount.
        Directory.CreateDirectory(runDir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        string mountPoint = Path.Combine(runDir, "fs");
        Directory.CreateDirectory(mountPoint, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        fs = new HelperFileSystem(mountPoint, File.ReadAllBytes(Path.Combine(NativeDirectory, "cordon-lsm-helper")), DecideAsync);
        helperPid = Spawn.Start(fs.HelperPath, ["cordon-lsm-helper"], [], []);

        Directory.CreateDirectory(cgroup);
        // A cgroup's id is the inode number of its directory in cgroup2 (kernfs).
        cgroupId = InodeOf(cgroup);

        using (LsmPrograms.Lock())
        {
            string cgroupMount = Path.GetDirectoryName(cgroup)!;
            RemoveLeftovers(cgroupMount);
            programs = LsmPrograms.OpenOrLoad(Path.Combine(NativeDirectory, "cordon-lsm.bpf.o"), (uint)(rootLevel + 1));
            var live = LiveCgroups(cgroupMount);
            programs.ForgetRunsExcept(live.ContainsKey);
            programs.RemoveOtherBuilds(live.ContainsKey);

            // The run's entry goes in last: from here on the programs decide for every process in its cgroup.
            var run = new LsmRun { HelperPid = (uint)helperPid, CordonTgid = (uint)Libc.GetPid() };
            ulong id = cgroupId;
            Io.Check(LibBpf.MapUpdate(programs.Runs, &id, &run, 0), "registering the run (bpf_map_update_elem(runs))");
            registered = true;
        }

        GrantFolders(force: true);
        policy.RuleRemembered += OnRuleRemembered;
    }

    /// <summary>
    /// Removes what runs whose cordon died left behind: their cgroups (the processes in them are killed first) and
    /// FUSE mounts, and the programs that builds before the shared ones pinned for one run (cordon-PID-NAME).
    /// </summary>
    private static void RemoveLeftovers(string cgroupMount)
    {
        foreach (var pin in Directory.EnumerateFiles(LsmPrograms.BpfFs, "cordon-*"))
        {
            if (OwnerGone(Path.GetFileName(pin)))
            {
                File.Delete(pin);
            }
        }

        foreach (var dir in Directory.EnumerateDirectories(cgroupMount, "cordon-*"))
        {
            if (OwnerGone(Path.GetFileName(dir)))
            {
                KillAndRemove(dir);
            }
        }

        // A dead cordon's FUSE mount stays, disconnected (ENOTCONN), until somebody unmounts it.
        foreach (var dir in Directory.EnumerateDirectories("/run", "cordon-*"))
        {
            if (OwnerGone(Path.GetFileName(dir)))
            {
                _ = Libc.Umount2(Path.Combine(dir, "fs"), MNT_DETACH);
                try
                {
                    Directory.Delete(dir, recursive: true);
                }
                catch (IOException)
                {
                }
            }
        }
    }

    /// <summary>
    /// The sandbox cgroups that exist, by id, with their names (a dead run's stays while its processes cannot be
    /// killed).
    /// </summary>
    private static Dictionary<ulong, string> LiveCgroups(string cgroupMount)
    {
        var ids = new Dictionary<ulong, string>();
        foreach (var dir in Directory.EnumerateDirectories(cgroupMount, "cordon-*"))
        {
            try
            {
                ids[InodeOf(dir)] = Path.GetFileName(dir);
            }
            catch (ErrnoException)
            {
                // removed meanwhile (a run ending): gone
            }
        }

        return ids;
    }

    /// <summary>`cordon unload`: detaches the programs that the LSM engine keeps loaded between runs.</summary>
    public static string Unload()
    {
        if (Libc.GetEUid() != 0)
        {
            throw new SandboxException("unloading the LSM engine's programs needs root (sudo cordon unload)");
        }

        using (LsmPrograms.Lock())
        {
            var live = CgroupRoot() is { } root ? LiveCgroups(root.Mount) : [];
            var (removed, users) = LsmPrograms.Unload(live.ContainsKey);
            if (users.Count > 0)
            {
                // A live run, or a dead one whose processes could not be killed: say which, and what to do.
                var names = users.Select(id => live.GetValueOrDefault(id, "?")).ToList();
                bool dead = names.All(OwnerGone);
                throw new SandboxException(
                    $"{string.Join(", ", names)} {(names.Count == 1 ? "uses" : "use")} the LSM engine's programs now; " +
                    (dead ? "its cordon is gone but processes in the cgroup could not be killed: kill them, then unload"
                          : "unload them when that run has ended"));
            }

            return removed.Count == 0
                ? "the LSM engine's programs are not loaded"
                : $"unloaded the LSM engine's programs ({string.Join(", ", removed)}); the kernel detaches them in the background";
        }
    }

    private static bool OwnerGone(string name)
    {
        var parts = name.Split('-');
        return parts.Length >= 2 && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int pid) &&
            !Directory.Exists($"/proc/{pid}");
    }

    private static unsafe ulong InodeOf(string path)
    {
        var bytes = Encoding.UTF8.GetBytes(path + "\0");
        fixed (byte* p = bytes)
        {
            Io.Check(Libc.FStatAt(Kernel.AT_FDCWD, p, out var st, 0), "stat " + path);
            return st.Ino;
        }
    }

    /// <summary>Moves a process (the launcher, before it starts the program) into the sandbox's cgroup.</summary>
    public void Join(int pid) => File.WriteAllText(Path.Combine(cgroup, "cgroup.procs"), pid.ToString(CultureInfo.InvariantCulture));

    /// <summary>Whether a process is in the sandbox's cgroup (or below it).</summary>
    public bool IsMember(int pid)
    {
        var text = ProcFs.ReadText($"/proc/{pid}/cgroup");
        string name = "/" + Path.GetFileName(cgroup);
        return text is not null && text.Split('\n').Any(l => l.StartsWith("0::", StringComparison.Ordinal) &&
            (l.EndsWith(name, StringComparison.Ordinal) || l.Contains(name + "/", StringComparison.Ordinal)));
    }

    private void OnRuleRemembered(Rule rule) => GrantFolders(force: true);

    /// <summary>
    /// Stores in the kernel the folders whose whole tree the rules allow (<see cref="Policy.Policy.FolderVerdict"/>),
    /// so that the BPF programs decide every file below them without asking. Recomputed when the rules change
    /// (<paramref name="force"/>) and when the kernel says a directory moved or went away (the generation changed).
    /// </summary>
    private unsafe void GrantFolders(bool force)
    {
        lock (foldersGate)
        {
            var state = new LsmState();
            uint zero = 0;
            if (programs is null || LibBpf.MapLookup(programs.State, &zero, &state) != 0 || (!force && state.FolderGen == grantedGen))
            {
                return;
            }

            var wanted = new HashSet<(ulong, ulong, uint)>();
            foreach (var (kind, folder) in policy.FolderCandidates())
            {
                if (policy.FolderVerdict(kind, folder) != Verdict.Allow || FolderId(folder) is not { } id)
                {
                    continue;
                }

                foreach (var (op, what) in Operations)
                {
                    if (what.Kind == kind)
                    {
                        wanted.Add((id.Mnt, id.Ino, op));
                    }
                }
            }

            // Grants the rules no longer give go first; new ones carry the generation read above, so that a
            // directory moved meanwhile voids them at once.
            Ungrant(granted.Where(g => !wanted.Contains(g)));

            foreach (var (mnt, ino, op) in wanted)
            {
                var key = new LsmFolderKey { Cgroup = cgroupId, Mnt = mnt, Ino = ino, Op = op };
                uint gen = state.FolderGen;
                _ = LibBpf.MapUpdate(programs.Folders, &key, &gen, 0);
            }

            granted = wanted;
            grantedGen = state.FolderGen;
        }
    }

    /// <summary>Removes this run's grants of these folders from the kernel.</summary>
    private unsafe void Ungrant(IEnumerable<(ulong Mnt, ulong Ino, uint Op)> folders)
    {
        foreach (var (mnt, ino, op) in folders)
        {
            var key = new LsmFolderKey { Cgroup = cgroupId, Mnt = mnt, Ino = ino, Op = op };
            _ = LibBpf.MapDelete(programs!.Folders, &key);
        }
    }

    /// <summary>
    /// The (mount, inode) of a folder whose path, as written, is its real path: no symbolic link on the way (the
    /// kernel would see the files below it under another path, which the rule does not name), and a directory.
    /// </summary>
    private static unsafe (ulong Mnt, ulong Ino)? FolderId(string folder)
    {
        if (Supervisor.OpenPathFd(null, Encoding.UTF8.GetBytes(folder), Kernel.O_DIRECTORY, Kernel.RESOLVE_NO_SYMLINKS, out var fd) != Errno.None)
        {
            return null;
        }

        using (fd)
        {
            byte empty = 0;
            const uint mask = Statx.STATX_TYPE | Statx.STATX_INO | Statx.STATX_MNT_ID_UNIQUE;
            return Libc.Statx(fd!.Fd, &empty, Kernel.AT_EMPTY_PATH, mask, out var st) == 0 && (st.Mask & Statx.STATX_MNT_ID_UNIQUE) != 0
                ? (st.MntId, st.Ino)
                : null;
        }
    }

    private async Task<bool> DecideAsync(uint tid)
    {
        // The kernel bumps the folder generation when a directory moves or goes: grants are recomputed first.
        GrantFolders(force: false);
        if (ReadRequest(tid) is not { } raw)
        {
            // No question from this thread: a getxattr the BPF programs did not make. Deny, and say so.
            observer.OnIncident($"a verdict was asked for thread {tid}, which has no pending request; denied");
            return false;
        }

        if (!Operations.TryGetValue(raw.Op, out var what))
        {
            observer.OnIncident($"unknown request {raw.Op} from thread {tid}; denied");
            return false;
        }

        int t = (int)tid;
        var process = new ProcessSummary(() => ProcFs.Tgid(t), () => (ProcFs.Exe(t), ProcFs.Cmdline(t)));
        // The sandbox's top is the launcher: the member whose parent (cordon) is not one.
        var subject = new Subject(process, t, () => Supervisor.Ancestry(process, p => ProcFs.ParentPid(p) is not { } up || !IsMember(up)), IsMember);
        Request request;
        if (what.Kind == AccessKind.Net)
        {
            var sa = Supervisor.ParseSockAddr(raw.Addr);
            if (sa.Family == Kernel.AF_UNSPEC || sa.Unnamed)
            {
                return true; // dissolving an association, or an autobound Unix socket: no destination to decide
            }

            var target = new NetTarget(sa.Ip, sa.Port, [], sa.UnixPath is { } p ? Encoding.UTF8.GetString(p) : sa.Abstract, Supervisor.FamilyName(sa.Family)) { Role = SystemResolvers.RoleOf(sa.Ip, sa.Port), SystemResolver = SystemResolvers.RoleOf(sa.Ip, sa.Port) is not null };
            request = new Request(what.Kind, what.Op, target.Display, null, subject, target);
        }
        else
        {
            string path = raw.Name.Length > 0 ? (raw.Path == "/" ? "/" + raw.Name : raw.Path + "/" + raw.Name) : raw.Path;
            request = new Request(what.Kind, what.Op, path, null, subject);
        }

        Decision decision;
        Decision? ruled = null;
        try
        {
            // While a person decides, the question stays only as long as the thread waits for it: a killed thread
            // stays in the kernel until its FUSE request is answered, so a pending SIGKILL withdraws the question.
            ruled = policy.Match(request);
            decision = ruled ??
                await Supervisor.DecideWhileAskedAsync(policy, request, () => !ProcFs.Dying(t) && ReadRequest(tid) is { } now && now.SameQuestion(raw)).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            decision = Decision.Error("policy failed: " + e.Message);
        }

        observer.OnDecision(request, decision);

        // A verdict a rule gives (a flag, a profile, the base rules, or an answer remembered as a rule) holds for the
        // rest of the run: store it for this inode, so the kernel decides the next open alone.
        // (An answer a person gave only becomes a rule through the policy: ask it again only then.)
        if (raw.Ino != 0 && (ruled ?? policy.Match(request)) is { } rule && rule.Verdict == decision.Verdict)
        {
            StoreVerdict(raw, decision.Allowed);
        }

        return decision.Allowed;
    }

    private readonly record struct RawRequest(uint Op, ulong Dev, ulong Ino, uint Gen, string Path, string Name, byte[] Addr)
    {
        public bool SameQuestion(RawRequest other) =>
            Op == other.Op && Dev == other.Dev && Ino == other.Ino && Gen == other.Gen && Path == other.Path && Name == other.Name && Addr.AsSpan().SequenceEqual(other.Addr);
    }

    private unsafe RawRequest? ReadRequest(uint tid)
    {
        var raw = new LsmRequest();
        // (No programs yet: the run is not registered, so no BPF program can have asked.)
        if (programs is null || LibBpf.MapLookup(programs.Requests, &tid, &raw) != 0)
        {
            return null;
        }

        var addr = new ReadOnlySpan<byte>(raw.Addr, (int)Math.Min(raw.AddrLen, (uint)LsmRequest.AddrMax)).ToArray();
        return new RawRequest(raw.Op, raw.Dev, raw.Ino, raw.Gen, CString(raw.Path, LsmRequest.PathMax), CString(raw.Name, LsmRequest.NameMax), addr);
    }

    private static unsafe string CString(byte* p, int max)
    {
        var span = new ReadOnlySpan<byte>(p, max);
        int end = span.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end < 0 ? span : span[..end]);
    }

    private unsafe void StoreVerdict(RawRequest raw, bool allowed)
    {
        var key = new LsmVerdictKey { Cgroup = cgroupId, Dev = raw.Dev, Ino = raw.Ino, Op = raw.Op, Gen = raw.Gen };
        byte value = allowed ? (byte)1 : (byte)2;
        if (programs is not null)
        {
            _ = LibBpf.MapUpdate(programs.Verdicts, &key, &value, 0);
        }
    }

    public unsafe void Dispose()
    {
        policy.RuleRemembered -= OnRuleRemembered;
        // The sandbox goes first: once the run's entry is gone nothing would hold its processes back. A cgroup
        // that cannot be removed keeps its entry (every question denied: the helper is gone); a later run retries.
        KillAndRemove(cgroup);
        if (programs is not null)
        {
            if (registered && !Directory.Exists(cgroup))
            {
                lock (foldersGate)
                {
                    Ungrant(granted);
                    granted = [];
                }

                ulong id = cgroupId;
                _ = LibBpf.MapDelete(programs.Runs, &id);
            }

            programs.Dispose();
        }

        if (helperPid > 0)
        {
            _ = Libc.Kill(helperPid, Kernel.SIGKILL);
            _ = Libc.WaitPid(helperPid, out _, 0);
        }

        fs?.Dispose();
        try
        {
            Directory.Delete(runDir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static void KillAndRemove(string dir)
    {
        if (!Directory.Exists(dir))
        {
            return;
        }

        try
        {
            File.WriteAllText(Path.Combine(dir, "cgroup.kill"), "1");
        }
        catch (IOException)
        {
        }

        for (int i = 0; i < 50 && Directory.Exists(dir); i++)
        {
            try
            {
                Directory.Delete(dir);
            }
            catch (IOException)
            {
                Thread.Sleep(20); // its processes are still exiting
            }
        }
    }

    /// <summary>The cgroup2 mount and the depth of its root in the hierarchy (from /proc/self/mountinfo).</summary>
    internal static (string Mount, int Level)? CgroupRoot()
    {
        var info = ProcFs.ReadText("/proc/self/mountinfo", 1 << 20);
        foreach (var line in (info ?? "").Split('\n'))
        {
            var parts = line.Split(" - ");
            if (parts.Length == 2 && parts[1].StartsWith("cgroup2 ", StringComparison.Ordinal))
            {
                var fields = parts[0].Split(' ');
                int level = fields[3].Split('/', StringSplitOptions.RemoveEmptyEntries).Length;
                return (fields[4], level);
            }
        }

        return null;
    }
}
