namespace Cordon.Policy;

/// <summary>What a path is on the host, for <see cref="ViewPlan"/> (a symbolic link is <see cref="Other"/>).</summary>
public enum HostEntry
{
    Missing,
    Directory,
    File,
    Other,
}

/// <summary>The host's file system as the view planner sees it: no I/O in the policy core, a real one in the engine.</summary>
public interface IHostTree
{
    /// <summary>What <paramref name="path"/> is, without following a symbolic link at its end.</summary>
    HostEntry Kind(string path);

    /// <summary>
    /// The names in a directory (empty when it cannot be listed). The plan reads at most <see cref="ViewPlan.MaxSplit"/>
    /// + 1 of them: a tree with more is not split, so a listing may stop there.
    /// </summary>
    IEnumerable<string> Children(string directory);
}

/// <summary>One step of building the view, performed by the launcher in order (native/launcher/README.md).</summary>
/// <param name="Verb">bind, tmpfs, proc, devpts or symlink.</param>
/// <param name="Path">The path in the view (for a bind also the host's source; for a symlink its target).</param>
/// <param name="Arg">bind: mount attributes ("ro", "nodev"); symlink: where the link is made.</param>
public sealed record ViewMount(string Verb, string Path, string Arg = "")
{
    public string Line => Arg.Length == 0 ? $"{Verb}\t{Path}" : $"{Verb}\t{Path}\t{Arg}";
}

/// <summary>
/// The view engine's file system (docs/view.md): which trees the kernel serves directly (bind mounts of the host's
/// own trees, at their own paths) and what the view adds (its own /proc and a minimal /dev). Everything else is
/// cordon's FUSE mirror, which decides each open as the seccomp engine does; so a tree is bound only when the rules
/// give every path below it the same answer, allow (<see cref="Policy.FolderVerdict"/>), and a tree that holds a
/// deny somewhere is bound piece by piece around it. Nothing lies beneath a bind but the mirror, which decides:
/// uncovering a mount could never show more than the rules allow.
/// </summary>
public static class ViewPlan
{
    /// <summary>Beyond this many binds the rest of an allowed tree is served by the mirror (still decided, slower).</summary>
    public const int MaxBinds = 2000;

    /// <summary>A tree with a deny inside and more entries than this is left to the mirror instead of split into binds.</summary>
    public const int MaxSplit = 32;

    /// <summary>How deep a tree with a deny inside is split into binds around the denied part.</summary>
    public const int MaxDepth = 8;

    private static readonly string[] Devices = ["/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty"];

    /// <summary>The steps, in order: /dev and /proc first, then the binds (parents before what lies below them).</summary>
    /// <param name="asRoot">cordon runs as root: base grants that stand for the user are not bound (see FolderVerdict).</param>
    /// <param name="terminal">The program's terminal (/dev/pts/N of cordon's pseudo-terminal), shown in the view's /dev/pts.</param>
    public static IReadOnlyList<ViewMount> Build(Policy policy, IHostTree host, bool asRoot, string? terminal = null)
    {
        // Loops rather than chained operators here and below: every start plans (see BuiltIn.For).
        var steps = new List<ViewMount> { new("tmpfs", "/dev") };
        var devices = new List<string>(Devices);
        foreach (var c in policy.FolderCandidates())
        {
            if (c.Kind is AccessKind.Read or AccessKind.Write && c.Folder.StartsWith("/dev/", StringComparison.Ordinal)
                && !Descriptor.InTree("/dev/pts", c.Folder) && c.Folder != "/dev/ptmx" && c.Folder != "/dev/shm" && !devices.Contains(c.Folder))
            {
                devices.Add(c.Folder);
            }
        }

        foreach (var d in devices)
        {
            if (host.Kind(d) != HostEntry.Missing)
            {
                steps.Add(new("bind", d)); // a device node: its bind keeps the host's dev attribute
            }
        }

        // Opens of a terminal for writing are trapped and performed on the host's devices (a new pty from /dev/ptmx
        // too); the view's /dev/pts holds only the program's own terminal, so that ttyname() finds it, and never
        // the user's (the base rules deny those; a bind of the host's /dev/pts would show them all).
        steps.Add(new("tmpfs", "/dev/pts"));
        if (terminal is not null && terminal.StartsWith("/dev/pts/", StringComparison.Ordinal) && host.Kind(terminal) != HostEntry.Missing)
        {
            steps.Add(new("bind", terminal));
        }

        if (host.Kind("/dev/ptmx") != HostEntry.Missing)
        {
            steps.Add(new("bind", "/dev/ptmx"));
        }

        steps.Add(new("symlink", "/proc/self/fd", "/dev/fd"));
        steps.Add(new("symlink", "/proc/self/fd/0", "/dev/stdin"));
        steps.Add(new("symlink", "/proc/self/fd/1", "/dev/stdout"));
        steps.Add(new("symlink", "/proc/self/fd/2", "/dev/stderr"));
        steps.Add(new("proc", "/proc"));
        foreach (var (path, readOnly) in Binds(policy, host, asRoot))
        {
            steps.Add(new ViewMount("bind", path, readOnly ? "ro,nodev" : "nodev"));
        }

        return steps;
    }

    /// <summary>The trees and files to bind, each at its own path, sorted so that no bind lies below another.</summary>
    public static IReadOnlyList<(string Path, bool ReadOnly)> Binds(Policy policy, IHostTree host, bool asRoot)
    {
        var candidates = new List<string>();
        foreach (var c in policy.FolderCandidates())
        {
            if (c.Kind == AccessKind.Read && c.Folder != "/" && !candidates.Contains(c.Folder) && !MirrorOnly.Contains(c.Folder) && !StartFiles.Contains(c.Folder))
            {
                candidates.Add(c.Folder);
            }
        }

        bool everything = policy.AllowsAnyPath(AccessKind.Read);
        var binds = new List<(string Path, bool ReadOnly)>();

        bool Inside(string path) => everything || candidates.Any(c => Descriptor.InTree(c, path));

        void Walk(string path, int depth)
        {
            if (binds.Count >= MaxBinds || Descriptor.InTree("/proc", path) || Descriptor.InTree("/dev", path))
            {
                return; // the view has its own /proc and /dev
            }

            var kind = host.Kind(path);
            if (kind is HostEntry.Missing or HostEntry.Other)
            {
                return; // a symbolic link is mirrored, and decided where it leads
            }

            // A file has no tree below it: the rules' own answer for it is the promise (as root that needs the file's
            // owner and mode, which the plan does not read: the mirror decides it). Only a file that stays put: a bind
            // pins the inode, so a file cordon replaced for the program (an editor's write and rename) would still
            // show its old content through the bind. So not where a rule allows writes, and not in the home, where
            // an answer may allow them; elsewhere (/etc) the user's own writes are the kernel's to refuse.
            var verdict = path == "/" ? null
                : kind == HostEntry.File ? (asRoot || !StaysPut(policy, path) ? null : policy.Match(LaunchRequest(AccessKind.Read, path))?.Verdict)
                : policy.FolderVerdict(AccessKind.Read, path, asRoot);
            if (verdict == Verdict.Allow)
            {
                binds.Add((path, policy.FolderVerdict(AccessKind.Write, path, asRoot) == Verdict.Deny));
                return;
            }

            if (verdict == Verdict.Deny || kind != HostEntry.Directory || depth >= MaxDepth)
            {
                return;
            }

            IEnumerable<string> children;
            if (Inside(path))
            {
                // A tree allowed but for some paths: bind around them, unless that takes more binds than the mirror
                // costs (each bind is a few system calls and a mirror lookup at every start; /etc has 150 entries).
                var names = host.Children(path).Take(MaxSplit + 1).ToList();
                if (names.Count > MaxSplit)
                {
                    return;
                }

                children = names;
            }
            else
            {
                // Only on the way to an allowed tree: the next name of each candidate below, never a listing.
                string prefix = path == "/" ? "/" : path + "/";
                var next = new List<string>();
                foreach (var c in candidates)
                {
                    if (c.Length > prefix.Length && c.StartsWith(prefix, StringComparison.Ordinal) && c[prefix.Length..].Split('/')[0] is var name && !next.Contains(name))
                    {
                        next.Add(name);
                    }
                }

                children = next;
            }

            var ordered = new List<string>(children);
            ordered.Sort(StringComparer.Ordinal);
            foreach (var name in ordered)
            {
                Walk(path == "/" ? "/" + name : path + "/" + name, depth + 1);
            }
        }

        Walk("/", 0);

        // The loader's cache, read by every dynamically linked program as it starts: in a tree left to the mirror (as
        // /etc is, too many names to bind around its denied parts), each exec would open it through cordon.
        foreach (var file in StartFiles)
        {
            if (binds.Count < MaxBinds && !asRoot && host.Kind(file) == HostEntry.File && !Covered(binds, file) && StaysPut(policy, file)
                && policy.Match(LaunchRequest(AccessKind.Read, file))?.Verdict == Verdict.Allow)
            {
                binds.Add((file, policy.FolderVerdict(AccessKind.Write, file, asRoot) == Verdict.Deny));
            }
        }

        return binds;
    }

    /// <summary>
    /// Files bound on their own wherever they exist, the rules allow reading them and no bind covers them already,
    /// without walking the trees that hold them: the loader's cache, and where /etc/resolv.conf may lead.
    /// </summary>
    public static readonly IReadOnlyList<string> StartFiles = ["/etc/ld.so.cache", .. BaseRules.ResolverFiles];

    /// <summary>
    /// Trees the base rules allow that are not bound for themselves: read by few programs (man, fontconfig), they are
    /// left to the mirror, which allows them without a question, rather than cost every start a bind.
    /// </summary>
    public static readonly IReadOnlyList<string> MirrorOnly = ["/var/cache/man", "/var/cache/fontconfig"];

    private static bool Covered(List<(string Path, bool ReadOnly)> binds, string path)
    {
        foreach (var (bound, _) in binds)
        {
            if (Descriptor.InTree(bound, path))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// A request for <paramref name="path"/> as the plan asks the rules about it, made by the run at launch (no
    /// process of the sandbox exists yet); the audit log records a bind's decision with it.
    /// </summary>
    public static Request LaunchRequest(AccessKind kind, string path) =>
        new(kind, kind == AccessKind.Read ? Operation.Read : Operation.Write, path, null, new Subject(new ProcessSummary(0, "cordon", ["(launch)"]), 0, [], _ => false));

    private static bool StaysPut(Policy policy, string path) =>
        policy.Match(LaunchRequest(AccessKind.Write, path)) is var write
        && (write?.Verdict == Verdict.Deny || (write is null && !policy.InHome(path)));

    /// <summary>
    /// Every mount point of the view and every directory above one: the mirror's entries that the kernel must
    /// neither look up again at each path walk (that would cost a round trip to cordon on every open below a bind)
    /// nor lose (a failed revalidation of a mount point's entry detaches what is mounted on it).
    /// </summary>
    public static IEnumerable<string> MountPoints(IEnumerable<ViewMount> steps)
    {
        var points = new HashSet<string>(StringComparer.Ordinal);
        foreach (var s in steps.Where(s => s.Verb is "bind" or "tmpfs" or "proc"))
        {
            for (string? p = s.Path; p is not null && points.Add(p); p = Descriptor.Parent(p))
            {
            }
        }

        return points;
    }
}
