using Cordon.Interop;

namespace Cordon.Supervisor.View;

/// <summary>What a node stands for on the host: the file's device, inode and type when it was looked up.</summary>
internal readonly record struct HostIdentity(ulong Dev, ulong Ino, uint Type)
{
    public static HostIdentity Of(in Stat st) => new(st.Dev, st.Ino, st.Type);
}

/// <summary>A version of a file's contents: its change time (which no program can set) and size.</summary>
internal readonly record struct HostStamp(long CTimeSec, long CTimeNsec, long MTimeSec, long MTimeNsec, long Size)
{
    public static HostStamp Of(in Stat st) => new(st.CTimeSec, st.CTimeNsec, st.MTimeSec, st.MTimeNsec, st.Size);
}

/// <summary>One FUSE node: a path below the mirrored root, as the kernel knows it.</summary>
internal sealed class ViewNode(ulong id, string path, HostIdentity identity, bool pinned)
{
    public ulong Id { get; } = id;

    /// <summary>The path relative to the host root, its bytes held one char per byte (Latin-1), "" for the root.</summary>
    public string Path { get; } = path;

    public HostIdentity Identity { get; set; } = identity;

    /// <summary>The kernel's lookup count (LOOKUP adds one, FORGET takes its count away).</summary>
    public ulong Lookups { get; set; }

    public bool Pinned { get; set; } = pinned;

    /// <summary>The file as it was when its pages last went into the kernel's cache (its last OPEN), if it was opened.</summary>
    public HostStamp? Cached { get; set; }

    public bool IsRoot => Id == Fuse.RootId;
}

/// <summary>
/// The node table: node ids stable per path for as long as the kernel holds the node, never reused. A path whose
/// host object changed (another inode or type: cordon renamed a file over it, a directory was replaced) gets a new
/// node, so the kernel's revalidation sees a different id and looks again instead of mixing two files' pages.
/// Pinned paths (bind mount points and their ancestors) keep their node whatever happens on the host and survive
/// FORGET: a failed revalidation of a mount point's dentry would detach the mounts on it (d_invalidate).
/// </summary>
internal sealed class ViewNodes
{
    private readonly Lock gate = new();
    private readonly Dictionary<ulong, ViewNode> byId = [];
    private readonly Dictionary<string, ViewNode> byPath = new(StringComparer.Ordinal);
    private readonly HashSet<string> pinned = new(StringComparer.Ordinal);
    private ulong next = Fuse.RootId + 1;

    public ViewNodes()
    {
        var root = new ViewNode(Fuse.RootId, "", default, pinned: false);
        byId[root.Id] = root;
        byPath[root.Path] = root;
    }

    /// <summary>Nodes held (the root included).</summary>
    public int Count
    {
        get
        {
            lock (gate)
            {
                return byId.Count;
            }
        }
    }

    public ViewNode? Get(ulong id)
    {
        lock (gate)
        {
            return byId.GetValueOrDefault(id);
        }
    }

    /// <summary>The node the kernel holds for <paramref name="path"/>, if any.</summary>
    public ViewNode? Find(string path)
    {
        lock (gate)
        {
            return byPath.GetValueOrDefault(path);
        }
    }

    /// <summary>A LOOKUP of <paramref name="path"/> found <paramref name="identity"/> on the host: the node to answer with.</summary>
    public ViewNode Remember(string path, HostIdentity identity)
    {
        lock (gate)
        {
            if (!byPath.TryGetValue(path, out var node) || !(node.Pinned || node.Identity == identity))
            {
                node = new ViewNode(next++, path, identity, pinned.Contains(path));
                byPath[path] = node;
                byId[node.Id] = node;
            }

            node.Identity = identity;
            node.Lookups++;
            return node;
        }
    }

    /// <summary>FORGET: the kernel dropped <paramref name="count"/> of its lookups of node <paramref name="id"/>.</summary>
    public void Forget(ulong id, ulong count)
    {
        lock (gate)
        {
            if (!byId.TryGetValue(id, out var node) || node.IsRoot)
            {
                return;
            }

            node.Lookups -= Math.Min(count, node.Lookups);
            if (node.Lookups == 0 && !node.Pinned)
            {
                byId.Remove(id);
                if (byPath.TryGetValue(node.Path, out var current) && current == node)
                {
                    byPath.Remove(node.Path);
                }
            }
        }
    }

    /// <summary>Pins <paramref name="path"/> (relative, Latin-1 bytes as in <see cref="ViewNode.Path"/>) and its ancestors.</summary>
    public void Pin(string path)
    {
        lock (gate)
        {
            while (true)
            {
                pinned.Add(path);
                if (byPath.TryGetValue(path, out var node))
                {
                    node.Pinned = true;
                }

                if (path.Length == 0)
                {
                    return;
                }

                int slash = path.LastIndexOf('/');
                path = slash < 0 ? "" : path[..slash];
            }
        }
    }
}
