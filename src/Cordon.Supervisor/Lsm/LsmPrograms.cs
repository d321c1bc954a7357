using System.Runtime.InteropServices;
using System.IO.Hashing;
using Cordon.Interop;

namespace Cordon.Supervisor.Lsm;

/// <summary>
/// The LSM engine's BPF programs and maps, shared by every run and kept loaded between runs. Loading them is most
/// of the engine's start-up (libbpf reads the kernel's BTF, the verifier checks two dozen programs, attaching patches
/// each hook): the first run loads and attaches them and pins the links and maps in a directory of the BPF file
/// system named after the object's hash; later runs open the pinned maps. A run adds its entry to the "runs" map
/// (keyed by its cgroup's id, which every other key carries too) and removes it when it ends; with no entry the
/// programs decide nothing. A new build of the object gets a new directory, and the old one is removed once no
/// live run is registered in it. <see cref="Unload"/> (`cordon unload`) detaches everything.
/// </summary>
internal sealed class LsmPrograms : IDisposable
{
    public const string BpfFs = "/sys/fs/bpf";
    private const string Prefix = "cordon-lsm-";
    private const string LockPath = "/run/cordon-lsm.lock";

    // "state" is pinned last: its pin marks a directory whose links and maps are all there.
    private static readonly string[] MapNames = ["runs", "requests", "verdicts", "folders", "state"];

    private readonly Dictionary<string, SafeFd> maps;

    // The run holds every link too: were the pins removed meanwhile (a root program, an unload that went wrong), the
    // programs would stay attached until the run ends.
    private readonly List<SafeFd> links;

    private LsmPrograms(string directory, Dictionary<string, SafeFd> maps, List<SafeFd> links, bool loadedNow)
    {
        Directory = directory;
        this.maps = maps;
        this.links = links;
        LoadedNow = loadedNow;
    }

    /// <summary>Where the programs of this build are pinned.</summary>
    public string Directory { get; }

    /// <summary>Whether this run loaded them (false: they were already loaded).</summary>
    public bool LoadedNow { get; }

    public int State => maps["state"].Fd;
    public int Runs => maps["runs"].Fd;
    public int Requests => maps["requests"].Fd;
    public int Verdicts => maps["verdicts"].Fd;
    public int Folders => maps["folders"].Fd;

    /// <summary>
    /// The pin directory for a build of the BPF object, named after a hash of it (XxHash64: it tells builds apart;
    /// nothing is trusted on it, and it needs no OpenSSL, which a minimal system may lack).
    /// </summary>
    public static string DirectoryFor(string objectPath) =>
        Path.Combine(BpfFs, Prefix + Convert.ToHexStringLower(XxHash64.Hash(File.ReadAllBytes(objectPath))));

    /// <summary>
    /// cordon's lock for loading, unloading and registering runs (an flock on a root-owned file in /run), waited for
    /// up to a minute: another cordon may be loading the programs (seconds under emulation).
    /// </summary>
    public static FileStream Lock()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        while (true)
        {
            try
            {
                // On Unix, FileShare.None takes flock(LOCK_EX | LOCK_NB) on the descriptor.
                return new FileStream(LockPath, new FileStreamOptions
                {
                    Mode = FileMode.OpenOrCreate, Access = FileAccess.ReadWrite, Share = FileShare.None,
                    UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
                });
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                Thread.Sleep(Random.Shared.Next(10, 50));
            }
        }
    }

    /// <summary>
    /// Opens the pinned programs of this build, or loads, attaches and pins them first. The caller holds
    /// <see cref="Lock"/>. <paramref name="cgroupLevel"/> is the depth of this run's cgroup: every run's must be
    /// the same (the programs look for the sandbox at one depth).
    /// </summary>
    public static LsmPrograms OpenOrLoad(string objectPath, uint cgroupLevel)
    {
        string dir = DirectoryFor(objectPath);
        bool loaded = false;
        if (!Complete(dir))
        {
            RemovePins(dir); // a load that died half way, or a link unpinned since (its hook would be missing)
            Load(objectPath, dir);
            loaded = true;
        }

        var maps = new Dictionary<string, SafeFd>();
        var links = new List<SafeFd>();
        try
        {
            foreach (var pin in System.IO.Directory.EnumerateFiles(dir))
            {
                string name = Path.GetFileName(pin);
                int fd = LibBpf.ObjectGet(pin);
                var handle = fd >= 0 ? new SafeFd(fd) : throw new ErrnoException($"opening the pinned {pin}", Io.LastErrno);
                if (MapNames.Contains(name))
                {
                    maps[name] = handle;
                }
                else
                {
                    links.Add(handle);
                }
            }

            if (MapNames.FirstOrDefault(m => !maps.ContainsKey(m)) is { } missing)
            {
                throw new SandboxException($"the pinned map {dir}/{missing} is missing; 'sudo cordon unload' and run again");
            }

            var programs = new LsmPrograms(dir, maps, links, loaded);
            programs.CheckLevel(cgroupLevel);
            return programs;
        }
        catch
        {
            foreach (var fd in maps.Values.Concat(links))
            {
                fd.Dispose();
            }

            throw;
        }
    }

    /// <summary>Whether a pin directory holds the state map (pinned last) and as many links as the loader pinned.</summary>
    private static unsafe bool Complete(string dir)
    {
        int fd = File.Exists(Path.Combine(dir, "state")) ? LibBpf.ObjectGet(Path.Combine(dir, "state")) : -1;
        if (fd < 0)
        {
            return false;
        }

        using var state = new SafeFd(fd);
        uint zero = 0;
        var value = new LsmState();
        int links = System.IO.Directory.EnumerateFiles(dir).Count(f => !MapNames.Contains(Path.GetFileName(f)));
        return LibBpf.MapLookup(state.Fd, &zero, &value) == 0 && value.Links > 0 && links == value.Links;
    }

    private unsafe void CheckLevel(uint cgroupLevel)
    {
        uint zero = 0;
        var state = new LsmState();
        Io.Check(LibBpf.MapLookup(State, &zero, &state), "reading the LSM engine's state");
        if (state.CgroupLevel == 0)
        {
            state.CgroupLevel = cgroupLevel;
            Io.Check(LibBpf.MapUpdate(State, &zero, &state, 0), "writing the LSM engine's state");
        }
        else if (state.CgroupLevel != cgroupLevel)
        {
            throw new SandboxException(
                $"the loaded LSM programs look for sandboxes at cgroup depth {state.CgroupLevel}, this run's is {cgroupLevel} (another cgroup namespace?); 'sudo cordon unload' when no run is under way");
        }
    }

    /// <summary>Whether this build's programs are loaded, attached and completely pinned.</summary>
    public static bool LoadedHere(string objectPath) => Complete(DirectoryFor(objectPath));

    /// <summary>
    /// Loads the object into the kernel (every program verified) and releases it at once, attaching nothing: null
    /// when the kernel takes it, else the line saying why not (`cordon doctor`).
    /// </summary>
    public static string? TryLoad(string objectPath)
    {
        try
        {
            using var bpf = OpenAndLoad(objectPath);
            return null;
        }
        catch (LsmRefusedException e)
        {
            return e.Message;
        }
        catch (ErrnoException e)
        {
            return e.Message;
        }
    }

    /// <summary>Opens the object and loads its programs and maps into the kernel; a refusal is an <see cref="LsmRefusedException"/>.</summary>
    private static BpfObjectHandle OpenAndLoad(string objectPath)
    {
        _ = LibBpf.SetPrint(0);
        var obj = LibBpf.ObjectOpenFile(objectPath, 0);
        if (obj == 0)
        {
            throw new ErrnoException($"bpf_object__open_file({Path.GetFileName(objectPath)})", Io.LastErrno);
        }

        var bpf = new BpfObjectHandle();
        Marshal.InitHandle(bpf, obj);
        if (LibBpf.ObjectLoad(bpf) != 0)
        {
            var errno = Io.LastErrno;
            bpf.Dispose();
            throw new LsmRefusedException(LsmAvailability.Refusal("bpf_object__load", errno));
        }

        return bpf;
    }

    /// <summary>Loads the object, attaches every program and pins the links, then the maps (state last, with the count of links).</summary>
    private static unsafe void Load(string objectPath, string dir)
    {
        using var bpf = OpenAndLoad(objectPath);

        System.IO.Directory.CreateDirectory(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        try
        {
            uint links = 0;
            for (nint prog = LibBpf.NextProgram(bpf, 0); prog != 0; prog = LibBpf.NextProgram(bpf, prog))
            {
                string name = Marshal.PtrToStringUTF8(LibBpf.ProgramName(prog)) ?? "?";
                nint link = LibBpf.ProgramAttach(prog);
                if (link == 0)
                {
                    throw new LsmRefusedException(LsmAvailability.Refusal($"attaching {name}", Io.LastErrno));
                }

                // Pinned, a link outlives cordon: closing our descriptor leaves the program attached.
                using var handle = new BpfLinkHandle(link);
                if (LibBpf.LinkPin(handle, Path.Combine(dir, name)) != 0)
                {
                    throw new ErrnoException($"pinning {dir}/{name}", Io.LastErrno);
                }

                links++;
            }

            uint zero = 0;
            var state = new LsmState { Links = links };
            Io.Check(LibBpf.MapUpdate(LibBpf.FindMapFd(bpf, "state"), &zero, &state, 0), "writing the LSM engine's state");

            foreach (var name in MapNames)
            {
                int fd = LibBpf.FindMapFd(bpf, name);
                if (fd < 0 || LibBpf.ObjectPin(fd, Path.Combine(dir, name)) != 0)
                {
                    throw new ErrnoException($"pinning the map {dir}/{name}", fd < 0 ? Errno.ENOENT : Io.LastErrno);
                }
            }
        }
        catch
        {
            RemovePins(dir);
            throw;
        }
    }

    /// <summary>
    /// Removes a pin directory: with the last reference gone the kernel detaches the programs (in the background:
    /// each detach patches a hook) and frees the maps.
    /// </summary>
    private static void RemovePins(string dir)
    {
        if (!System.IO.Directory.Exists(dir))
        {
            return;
        }

        foreach (var pin in System.IO.Directory.EnumerateFiles(dir))
        {
            File.Delete(pin);
        }

        System.IO.Directory.Delete(dir);
    }

    /// <summary>The pin directories of every build (this one and older ones).</summary>
    public static IEnumerable<string> PinDirectories() =>
        System.IO.Directory.Exists(BpfFs) ? System.IO.Directory.EnumerateDirectories(BpfFs, Prefix + "*") : [];

    /// <summary>The cgroup ids of the runs registered in a "runs" map.</summary>
    public static unsafe List<ulong> RegisteredRuns(int runsMap)
    {
        var ids = new List<ulong>();
        ulong key = 0, next = 0;
        for (ulong* previous = null; LibBpf.MapNextKey(runsMap, previous, &next) == 0; previous = &key)
        {
            ids.Add(next);
            key = next;
        }

        return ids;
    }

    /// <summary>
    /// Removes what runs that are gone left in the maps: their entry in "runs" and their folder grants. (Their
    /// cached verdicts are left to the map's least-recently-used eviction: nothing matches a dead run's cgroup id
    /// again.) <paramref name="isLive"/> says which cgroup ids still exist: a cgroup that could not be removed
    /// keeps its entry, so that its processes stay in a sandbox whose questions are all denied.
    /// </summary>
    public unsafe void ForgetRunsExcept(Func<ulong, bool> isLive)
    {
        var gone = RegisteredRuns(Runs).Where(id => !isLive(id)).ToHashSet();
        if (gone.Count == 0)
        {
            return;
        }

        var stale = new List<LsmFolderKey>();
        LsmFolderKey key = default, next = default;
        for (LsmFolderKey* previous = null; LibBpf.MapNextKey(Folders, previous, &next) == 0; previous = &key)
        {
            if (gone.Contains(next.Cgroup))
            {
                stale.Add(next);
            }

            key = next;
        }

        foreach (var folder in stale)
        {
            var k = folder;
            _ = LibBpf.MapDelete(Folders, &k);
        }

        foreach (var id in gone)
        {
            var k = id;
            _ = LibBpf.MapDelete(Runs, &k);
        }
    }

    /// <summary>
    /// Removes the pin directories of other builds that no run uses any more: none of the runs registered in their
    /// "runs" map has a cgroup that <paramref name="isLive"/> (a dead run whose cgroup could not be removed still
    /// counts: its processes stay in a sandbox). A directory whose "runs" map cannot be opened for another reason is
    /// kept.
    /// </summary>
    public void RemoveOtherBuilds(Func<ulong, bool> isLive)
    {
        foreach (var dir in PinDirectories())
        {
            if (dir != Directory && InUse(dir, isLive).Count == 0)
            {
                RemovePins(dir);
            }
        }
    }

    /// <summary>
    /// The runs with a live cgroup registered in a build's "runs" map (a half-made directory has none). A map that
    /// cannot be opened for another reason than its absence counts as used (cgroup id 0).
    /// </summary>
    private static List<ulong> InUse(string dir, Func<ulong, bool> isLive)
    {
        int fd = LibBpf.ObjectGet(Path.Combine(dir, "runs"));
        if (fd < 0)
        {
            return Io.LastErrno == Errno.ENOENT ? [] : [0];
        }

        using var runs = new SafeFd(fd);
        return RegisteredRuns(runs.Fd).Where(isLive).ToList();
    }

    /// <summary>
    /// Detaches and frees every build's programs and maps (`cordon unload`), unless a run with a live cgroup is
    /// registered in one of them (its sandbox would be left unwatched): then nothing is removed and those runs'
    /// cgroup ids come back. The caller holds <see cref="Lock"/>.
    /// </summary>
    public static (List<string> Removed, List<ulong> Users) Unload(Func<ulong, bool> isLive)
    {
        var dirs = PinDirectories().ToList();
        var users = dirs.SelectMany(dir => InUse(dir, isLive)).Distinct().ToList();
        if (users.Count > 0)
        {
            return ([], users);
        }

        foreach (var dir in dirs)
        {
            RemovePins(dir);
        }

        return (dirs, []);
    }

    public void Dispose()
    {
        foreach (var fd in maps.Values.Concat(links))
        {
            fd.Dispose();
        }
    }
}

/// <summary>The kernel would not load or attach the LSM engine's programs: the message is the line for the user.</summary>
internal sealed class LsmRefusedException(string message) : Exception(message);
