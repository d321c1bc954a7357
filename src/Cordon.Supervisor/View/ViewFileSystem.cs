using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using Cordon.Interop;

namespace Cordon.Supervisor.View;

/// <summary>What a FUSE OPEN or OPENDIR asks to do with a file.</summary>
public enum ViewOpenKind
{
    /// <summary>Read a file's contents.</summary>
    File,

    /// <summary>List a directory (as under the seccomp engine, a listing is a read of the directory).</summary>
    Directory,

    /// <summary>The kernel opens the file to execute it (execve, or an interpreter named by #!).</summary>
    Exec,
}

/// <summary>The policy behind the view's FUSE layer: asked at every OPEN and OPENDIR that reaches it.</summary>
public interface IViewDecider
{
    /// <summary>
    /// A read-only open of <paramref name="hostPath"/> (canonical, absolute: the host path, which is the path the
    /// sandboxed program sees when the mirrored root is "/") by thread <paramref name="tid"/> (the FUSE header's
    /// pid: the thread id in the pid namespace of the mounter, in the engine cordon's). <see cref="Errno.None"/>
    /// allows; any other errno denies with it (ENOSYS and values that are not errnos are sent as EACCES). May take
    /// minutes (a person is asked), but must do its slow work asynchronously: it is called on a FUSE reader thread.
    /// <paramref name="cancel"/> fires when the asking thread is interrupted or the file system closes.
    /// </summary>
    ValueTask<Errno> DecideOpenAsync(string hostPath, uint tid, ViewOpenKind kind, CancellationToken cancel);
}

/// <summary>
/// The view engine's FUSE file system: a read-only mirror of the host's tree (same paths, same names) over a
/// /dev/fuse descriptor whose mount somebody else made, with <c>default_permissions,allow_other</c> (the kernel
/// checks mode bits itself) and, as every mount in a user namespace gets, <c>nodev</c>. Only opens are decided;
/// metadata is not (README: "metadata is not decided").
/// <list type="bullet">
/// <item>LOOKUP, GETATTR: the host's lstat of the path (resolved beneath the root without following any symlink,
/// see <see cref="HostTree"/>): inode numbers, modes, owners and times as they are; rdev is 0 (device nodes are
/// opened by the kernel by their number with no OPEN reaching cordon, so the view never names a real device, nodev
/// or not). The kernel keeps names and attributes for <see cref="CacheSeconds"/> (never the attributes of a file
/// the program was given for writing: it writes that file behind FUSE's back), and for hours those of pinned
/// directories (<see cref="Pin"/>); cordon's own changes are sent to the kernel at once (<see cref="Invalidate"/>).
/// A name that is not there is kept as missing for as long (node id 0). A node whose path now holds another inode
/// is ESTALE (the kernel looks again).</item>
/// <item>READLINK: the host link's text; the kernel follows it inside the view, so a link is decided where it
/// leads.</item>
/// <item>OPEN: any write intent (O_WRONLY, O_RDWR, O_TRUNC, O_CREAT) is EROFS without a question: writes are
/// trapped by seccomp and performed by cordon. Otherwise the decider is asked (kind Exec when the kernel's flags
/// carry __FMODE_EXEC) on a task, never holding a reader; allowed: cordon opens the host file O_RDONLY itself and
/// serves READs from that descriptor; keep_cache only for a file unchanged since its last OPEN (<see cref="KeepCache"/>),
/// no direct_io (exec and mmap need the page cache). Nothing of a file's contents is served without an allowed OPEN: a READ on an unknown
/// handle is EBADF.</item>
/// <item>OPENDIR: decided the same way (kind Directory); READDIR lists the host directory (name, inode, type) with
/// the host's own offsets as cookies; plain READDIR only (no READDIRPLUS).</item>
/// <item>STATFS: the host's statfs of the root. GETXATTR, LISTXATTR: ENOSYS (the kernel then answers EOPNOTSUPP
/// itself, which ls, cp and stat take in their stride; no file capabilities reach an exec through the view).
/// FLUSH: ENOSYS (nothing to flush: the kernel stops sending it). FSYNC, FSYNCDIR: 0. ACCESS (sent only without
/// default_permissions): EROFS for W_OK, else 0.</item>
/// <item>Everything that writes: EROFS. Unknown opcodes: ENOSYS. OPEN and OPENDIR never answer ENOSYS, whatever
/// happens: the kernel would take it as "no open needed" and stop sending OPEN for every later file
/// (fs/fuse/file.c, fuse_do_open sets no_open), which would end every decision.</item>
/// <item>INTERRUPT of a pending OPEN or OPENDIR, when the thread is being killed (SIGKILL pending, or a signal
/// that ends it unhandled; <see cref="ThreadSignals"/>): the decision is cancelled and the request answered EINTR at
/// once (a decider that ignores the token cannot keep a dying thread). For a signal the thread handles (a shell's
/// SIGCHLD, a timer) the question stays, as under the seccomp engine (SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV): the
/// handler runs after the open returns, instead of the open failing with EINTR, which few programs retry. The
/// thread is then watched every 250 ms, so that a kill that comes later still ends the wait (the kernel sends
/// one INTERRUPT per request). An INTERRUPT that overtakes its request (another reader read it first) is
/// remembered for a while and applied when the request registers.</item>
/// <item>INIT: protocol 7.31, async reads, atomic O_TRUNC (so a truncating open reaches OPEN and is refused),
/// parallel lookups, symbolic links' targets cached; no automatic page-cache invalidation (a request per read);
/// max_write 4 KiB (nothing is
/// ever written); no passthrough (it needs CAP_SYS_ADMIN in the initial user namespace).</item>
/// <item>Names are bytes: a path that is not UTF-8 is given to the decider in UTF-8 with replacement characters
/// (as the seccomp engine does), while the host is always accessed with the exact bytes.</item>
/// <item>The mirror follows paths, not mounts: host inode numbers from different file systems under the root may
/// collide (all share the FUSE mount's device), which only tools comparing inode numbers across them notice.</item>
/// </list>
/// The device is read by several threads; replies are single writes (atomic on /dev/fuse), from whichever thread
/// finishes a request. When the mount goes away (ENODEV) the readers end quietly; Dispose stops them and closes the
/// device, which makes the kernel fail every pending request (ECONNABORTED), and drops pending decisions' replies.
/// </summary>
public sealed class ViewFileSystem : IDisposable
{
    /// <summary>Entry and attribute timeout of pinned directories: long enough that the kernel never revalidates them.</summary>
    public const ulong PinnedTimeoutSeconds = 24 * 3600;

    /// <summary>
    /// How long the kernel may use a name it looked up (and a name that is not there), and a node's attributes,
    /// without asking again. Without it every path walk through the mirror asked for every name on the way
    /// (`/etc/...`, the `/lib` link): four requests for one stat, about 100 us. The attributes of a file the program
    /// opened for writing are never kept (<see cref="OpenedForWriting"/>): it writes through a descriptor cordon
    /// opened on the host, behind FUSE's back, and a stale size would cut its reads short. cordon's own changes (a
    /// rename, a removal, a chmod) are sent to the kernel at once (<see cref="Invalidate"/>); a change by a process
    /// outside the sandbox shows within this time.
    /// </summary>
    public const ulong CacheSeconds = 1;

    /// <summary>Files the program may write through descriptors cordon gave it: their attributes are never kept.</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(ulong Dev, ulong Ino), byte> written = new();

    // Requests are small: the largest is a SYMLINK (two names, one up to PATH_MAX); WRITE is never accepted and
    // max_write is 4 KiB. The kernel wants at least FUSE_MIN_READ_BUFFER and fails larger requests itself.
    private const int RequestBufferSize = Fuse.MinReadBuffer + 8192;
    private const uint MaxWrite = 4096;
    private const int MaxReadReply = 1 << 20;
    private const int MaxDirReply = 64 * 1024;
    private const int OutHeaderSize = 16;
    private const uint W_OK = 2;
    private const long EarlyInterruptLifetimeMs = 10_000;
    private static readonly TimeSpan WatchInterval = TimeSpan.FromMilliseconds(250);

    private readonly SafeFd device;
    private readonly IViewDecider decider;
    private readonly HostTree tree;
    private readonly ViewNodes nodes = new();
    private readonly System.Collections.Concurrent.ConcurrentDictionary<ulong, OpenHandle> handles = new();
    private readonly Lock gate = new();
    private readonly Dictionary<ulong, Pending> pending = [];
    private readonly Dictionary<ulong, long> earlyInterrupts = [];
    private readonly SafeFd stop;
    private readonly ReadyThreads readers;
    private long nextHandle;
    private int liveReaders;
    private int disposed;

    /// <summary>
    /// Starts serving <paramref name="device"/> (a /dev/fuse descriptor already mounted; this object owns it from
    /// now on and sets it non-blocking) with <paramref name="readers"/> reader threads. Node 1 is
    /// <paramref name="hostRoot"/>; a FUSE path /a/b is the host path hostRoot/a/b.
    /// </summary>
    public ViewFileSystem(SafeFd device, IViewDecider decider, string hostRoot = "/", int readers = 4)
        : this(device, decider, hostRoot, StartReaders(readers))
    {
    }

    /// <summary>
    /// As the public constructor, with reader threads started beforehand (<see cref="ReaderThreads"/>): a run starts
    /// them while the launcher is still starting.
    /// </summary>
    internal unsafe ViewFileSystem(SafeFd device, IViewDecider decider, string hostRoot, ReadyThreads readers)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(decider);
        ArgumentNullException.ThrowIfNull(readers);
        this.device = device;
        this.decider = decider;
        try
        {
            tree = new HostTree(hostRoot);
            stop = SafeFd.FromResult(Libc.EventFd(0, Libc.EFD_CLOEXEC | Libc.EFD_NONBLOCK), "eventfd");

            // Non-blocking: every reader waits in poll on the device and on the stop event, so Dispose can end them
            // (a read blocked in the kernel would not notice the descriptor being closed).
            int one = 1;
            Io.Check(Libc.Ioctl(device.Fd, Libc.FIONBIO, &one), "ioctl(/dev/fuse, FIONBIO)");
        }
        catch
        {
            tree?.Dispose();
            stop?.Dispose();
            readers.Release();
            throw;
        }

        this.readers = readers;
        readers.Run(Serve);
    }

    /// <summary>A reader thread for a mirror that will be made later, waiting for it; the others come with <see cref="StartAllReaders"/>.</summary>
    internal static ReadyThreads ReaderThreads() => new("cordon-view-", 1);

    /// <summary>Starts the rest of the <see cref="DefaultReaders"/> readers.</summary>
    internal void StartAllReaders() => readers.Grow(DefaultReaders);

    /// <summary>
    /// Readers of a run's mirror: requests are answered on the reader that read them (an open's decision goes on
    /// asynchronously and holds none), so one per CPU keeps every CPU busy; at least two, so that a slow host call
    /// (a large READ) does not hold up the others.
    /// </summary>
    internal static int DefaultReaders => Math.Clamp(Environment.ProcessorCount, 2, 4);

    private static ReadyThreads StartReaders(int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, 64);
        return new ReadyThreads("cordon-view-", count);
    }

    /// <summary>The mirrored directory, canonical.</summary>
    public string HostRoot => tree.Root;

    /// <summary>Reader threads still running (for tests: 0 once the mount is gone).</summary>
    internal int LiveReaders => Volatile.Read(ref liveReaders);

    /// <summary>Nodes the table holds (for tests).</summary>
    internal int NodeCount => nodes.Count;

    /// <summary>
    /// Directories that are (or will be) mount points of binds, and all their ancestors: stable node ids, long
    /// entry and attribute timeouts, so the kernel never revalidates them away (a failed revalidation of a mount
    /// point's dentry detaches the mounts on it: d_invalidate in fs/dcache.c).
    /// </summary>
    public void Pin(string hostDirectory)
    {
        ArgumentNullException.ThrowIfNull(hostDirectory);
        string relative = (Path.IsPathFullyQualified(hostDirectory) ? tree.Relative(hostDirectory) : null)
            ?? throw new ArgumentException($"not a directory below the view's root {tree.Root}: {hostDirectory}", nameof(hostDirectory));
        nodes.Pin(relative);
    }

    /// <summary>Stops the readers, withdraws pending decisions and closes the device.</summary>
    public void Dispose() => Close(TimeSpan.FromSeconds(5));

    /// <summary>
    /// Stops the readers, waiting for them at most <paramref name="wait"/> (each holds its own reference to the
    /// device, which closes when the last one returns), and ends the pending requests and open files.
    /// </summary>
    public void Close(TimeSpan wait)
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0)
        {
            return;
        }

        Span<byte> one = stackalloc byte[8];
        one[0] = 1;
        _ = Libc.Write(stop.Fd, one, one.Length);
        // A reader in a host call that hangs (a dead network file system) is left behind: it holds its own reference
        // to the device, which closes when it returns.
        readers.Join(wait);

        List<Pending> waiting;
        lock (gate)
        {
            waiting = [.. pending.Values];
            pending.Clear();
            earlyInterrupts.Clear();
        }

        foreach (var p in waiting)
        {
            _ = p.Cancel.CancelAsync();
        }

        foreach (var fh in handles.Keys)
        {
            if (handles.TryRemove(fh, out var handle))
            {
                handle.Dispose();
            }
        }

        device.Dispose();
        stop.Dispose();
        tree.Dispose();
    }

    private unsafe void Serve()
    {
        // Both descriptors stay open while this reader runs, even if Dispose gave up waiting for it.
        bool added = false, addedStop = false;
        Interlocked.Increment(ref liveReaders);
        try
        {
            try
            {
                device.DangerousAddRef(ref added);
                stop.DangerousAddRef(ref addedStop);
            }
            catch (ObjectDisposedException)
            {
                return; // disposed before this thread ran
            }

            var buffer = GC.AllocateArray<byte>(RequestBufferSize, pinned: true);
            fixed (byte* p = buffer)
            {
                var fds = stackalloc PollFd[2];
                while (true)
                {
                    fds[0] = new PollFd { Fd = device.Fd, Events = Kernel.POLLIN };
                    fds[1] = new PollFd { Fd = stop.Fd, Events = Kernel.POLLIN };
                    if (Libc.Poll(fds, 2, -1) < 0)
                    {
                        var pe = Io.LastErrno;
                        if (pe == Errno.EINTR)
                        {
                            continue;
                        }

                        Fail("poll", pe);
                    }

                    if (fds[1].REvents != 0)
                    {
                        return;
                    }

                    nint n = Libc.Read(device.Fd, p, buffer.Length);
                    if (n < 0)
                    {
                        var e = Io.LastErrno;
                        if (e is Errno.EAGAIN or Errno.EINTR or Errno.ENOENT)
                        {
                            continue; // another reader took it, or it was interrupted before it was read
                        }

                        if (e is Errno.ENODEV or Errno.ECONNABORTED)
                        {
                            return; // unmounted, or the connection aborted
                        }

                        Fail("read(/dev/fuse)", e);
                    }

                    if (n < sizeof(FuseInHeader))
                    {
                        continue;
                    }

                    var header = *(FuseInHeader*)p;
                    var body = new ReadOnlySpan<byte>(p + sizeof(FuseInHeader), (int)n - sizeof(FuseInHeader));
                    try
                    {
                        Handle(header, body);
                    }
                    catch (Exception ex) when (ex is not OutOfMemoryException)
                    {
                        if (header.Opcode is not (Fuse.Forget or Fuse.BatchForget or Fuse.Interrupt))
                        {
                            Reply(header.Unique, Errno.EIO);
                        }
                    }
                }
            }
        }
        finally
        {
            Interlocked.Decrement(ref liveReaders);
            if (addedStop)
            {
                stop.DangerousRelease();
            }

            if (added)
            {
                device.DangerousRelease();
            }
        }
    }

    // A reader that cannot read any more would leave every request of the sandbox unanswered forever; ending cordon
    // closes the device, and the kernel fails them all.
    private static void Fail(string call, Errno e) =>
        Environment.FailFast($"cordon: the view's FUSE reader failed: {call}: {ErrnoException.Describe(e)}");

    private void Handle(in FuseInHeader h, ReadOnlySpan<byte> body)
    {
        switch (h.Opcode)
        {
            case Fuse.Init:
                Init(h, body);
                break;
            case Fuse.Lookup:
                Lookup(h, body);
                break;
            case Fuse.Forget:
                nodes.Forget(h.NodeId, MemoryMarshal.Read<FuseForgetIn>(body).NLookup);
                break;
            case Fuse.BatchForget:
                BatchForget(body);
                break;
            case Fuse.GetAttr:
                GetAttr(h, body);
                break;
            case Fuse.ReadLink:
                ReadLink(h);
                break;
            case Fuse.Open:
                StartOpen(h, body, directory: false);
                break;
            case Fuse.OpenDir:
                StartOpen(h, body, directory: true);
                break;
            case Fuse.Read:
                ReadFile(h, body);
                break;
            case Fuse.ReadDir:
                ReadDirectory(h, body);
                break;
            case Fuse.Release:
            case Fuse.ReleaseDir:
                if (handles.TryRemove(MemoryMarshal.Read<FuseReleaseIn>(body).Fh, out var handle))
                {
                    handle.Dispose();
                }

                Reply(h.Unique, Errno.None);
                break;
            case Fuse.StatFs:
                StatFs(h);
                break;
            case Fuse.Interrupt:
                Interrupt(MemoryMarshal.Read<FuseInterruptIn>(body).Unique, early: true);
                break;
            case Fuse.Access:
                Reply(h.Unique, (MemoryMarshal.Read<FuseAccessIn>(body).Mask & W_OK) != 0 ? Errno.EROFS : Errno.None);
                break;
            case Fuse.Flush:
                // Nothing is ever written through the mirror, so a close has nothing to flush: ENOSYS tells the
                // kernel so once, and it stops sending FLUSH at every close (fs/fuse/file.c, fuse_flush: no_flush),
                // a round trip saved per file read.
                Reply(h.Unique, Errno.ENOSYS);
                break;
            case Fuse.Fsync:
            case Fuse.FsyncDir:
            case Fuse.Destroy:
                Reply(h.Unique, Errno.None);
                break;
            case Fuse.SetAttr:
            case Fuse.Symlink:
            case Fuse.Mknod:
            case Fuse.Mkdir:
            case Fuse.Unlink:
            case Fuse.Rmdir:
            case Fuse.Rename:
            case Fuse.Rename2:
            case Fuse.Link:
            case Fuse.Write:
            case Fuse.SetXattr:
            case Fuse.RemoveXattr:
            case Fuse.Create:
            case Fuse.Tmpfile:
            case Fuse.Fallocate:
            case Fuse.CopyFileRange:
                Reply(h.Unique, Errno.EROFS);
                break;
            default:
                Reply(h.Unique, Errno.ENOSYS);
                break;
        }
    }

    private void Init(in FuseInHeader h, ReadOnlySpan<byte> body)
    {
        var offer = MemoryMarshal.Read<FuseInitIn>(body);
        if (offer.Major != Fuse.MajorVersion)
        {
            Reply(h.Unique, Errno.EIO);
            return;
        }

        // Not FUSE_AUTO_INVAL_DATA: with it the kernel asks for a file's attributes before every read() (to see
        // whether its mtime moved), a second request per read. A changed file's pages are dropped at its next OPEN
        // instead (see KeepCache). Symbolic links' targets are kept with their node (FUSE_CACHE_SYMLINKS): a link
        // is never changed in place, and a new one at the name is a new node.
        const uint Wanted = Fuse.InitAsyncRead | Fuse.InitAtomicOTrunc | Fuse.InitParallelDirops | Fuse.InitCacheSymlinks;
        Reply(h.Unique, new FuseInitOut
        {
            Major = Fuse.MajorVersion,
            Minor = Fuse.MinorVersion,
            MaxReadahead = offer.MaxReadahead,
            Flags = offer.Flags & Wanted,
            MaxBackground = 64,
            CongestionThreshold = 48,
            MaxWrite = MaxWrite,
            TimeGran = 1,
        });
    }

    private void Lookup(in FuseInHeader h, ReadOnlySpan<byte> body)
    {
        if (nodes.Get(h.NodeId) is not { } parent)
        {
            Reply(h.Unique, Errno.ESTALE);
            return;
        }

        // The kernel never sends "", ".", ".." or a name with a slash; refusing them keeps a bug from walking up.
        int end = body.IndexOf((byte)0);
        var name = end < 0 ? body : body[..end];
        if (name.Length == 0 || name.IndexOf((byte)'/') >= 0 || name.SequenceEqual("."u8) || name.SequenceEqual(".."u8))
        {
            Reply(h.Unique, Errno.EINVAL);
            return;
        }

        string text = Encoding.Latin1.GetString(name);
        string path = parent.Path.Length == 0 ? text : parent.Path + "/" + text;
        var e = tree.Stat(path, out var st);
        if (e == Errno.ENOENT)
        {
            // No such name, and the kernel may keep that for as long as a name (node id 0: a negative entry).
            // Compilers and interpreters look for many names that are not there, again in every process.
            Reply(h.Unique, new FuseEntryOut { NodeId = 0, EntryValid = CacheSeconds });
            return;
        }

        if (e != Errno.None)
        {
            Reply(h.Unique, e);
            return;
        }

        var node = nodes.Remember(path, HostIdentity.Of(st));
        if (!Reply(h.Unique, new FuseEntryOut { NodeId = node.Id, EntryValid = node.Pinned ? PinnedTimeoutSeconds : CacheSeconds, AttrValid = AttrTimeout(node, st), Attr = Attr(st) }))
        {
            nodes.Forget(node.Id, 1); // the request is gone: the kernel did not count this lookup
        }
    }

    private void BatchForget(ReadOnlySpan<byte> body)
    {
        var batch = MemoryMarshal.Read<FuseBatchForgetIn>(body);
        var records = MemoryMarshal.Cast<byte, FuseForgetOne>(body[Marshal.SizeOf<FuseBatchForgetIn>()..]);
        foreach (var one in records[..Math.Min(records.Length, (int)Math.Min(batch.Count, int.MaxValue))])
        {
            nodes.Forget(one.NodeId, one.NLookup);
        }
    }

    private void GetAttr(in FuseInHeader h, ReadOnlySpan<byte> body)
    {
        if (nodes.Get(h.NodeId) is not { } node)
        {
            Reply(h.Unique, Errno.ESTALE);
            return;
        }

        var request = body.Length >= Marshal.SizeOf<FuseGetAttrIn>() ? MemoryMarshal.Read<FuseGetAttrIn>(body) : default;
        Errno e;
        Stat st;
        if ((request.GetAttrFlags & Fuse.GetAttrFh) != 0 && handles.TryGetValue(request.Fh, out var handle))
        {
            e = handle.Stat(out st); // fstat of an open file: its own inode, wherever its path went
        }
        else
        {
            e = tree.Stat(node.Path, out st);
            if (e == Errno.None && !node.IsRoot && !node.Pinned && HostIdentity.Of(st) != node.Identity)
            {
                e = Errno.ESTALE;
            }
        }

        if (e != Errno.None)
        {
            Reply(h.Unique, e);
            return;
        }

        Reply(h.Unique, new FuseAttrOut { AttrValid = AttrTimeout(node, st), Attr = Attr(st) });
    }

    private ulong AttrTimeout(ViewNode node, in Stat st) =>
        node.Pinned ? PinnedTimeoutSeconds : st.Type == Kernel.S_IFREG && written.ContainsKey((st.Dev, st.Ino)) ? 0 : CacheSeconds;

    /// <summary>
    /// cordon gave the program a descriptor of <paramref name="hostPath"/> open for writing (<paramref name="st"/> its
    /// fstat): from now on the kernel keeps none of that file's attributes, and forgets what it kept.
    /// </summary>
    public void OpenedForWriting(string hostPath, in Stat st)
    {
        if (st.Type == Kernel.S_IFREG && written.TryAdd((st.Dev, st.Ino), 0))
        {
            Invalidate(hostPath);
        }
    }

    /// <summary>
    /// cordon changed <paramref name="hostPath"/> on the host (removed, renamed, made, or changed its attributes): the
    /// kernel forgets its cached entry for the name and the node's attributes and pages, so the program sees the
    /// change at once. Pinned entries are left alone (forgetting a mount point's entry would detach its mounts), and
    /// so is whatever the kernel does not hold. Called by the supervisor before it answers the call that made the
    /// change; never from a reader (the kernel takes the directory's lock, which a request in flight may hold).
    /// </summary>
    public void Invalidate(string hostPath)
    {
        if (Volatile.Read(ref disposed) != 0 || !hostPath.StartsWith('/') || tree.Relative(hostPath) is not { Length: > 0 } relative)
        {
            return;
        }

        int slash = relative.LastIndexOf('/');
        string parentPath = slash < 0 ? "" : relative[..slash];
        string name = relative[(slash + 1)..];
        if (nodes.Find(relative) is { } node)
        {
            if (node.Pinned)
            {
                return;
            }

            Span<byte> inode = stackalloc byte[OutHeaderSize + Unsafe.SizeOf<FuseNotifyInvalInodeOut>()];
            MemoryMarshal.Write(inode[OutHeaderSize..], new FuseNotifyInvalInodeOut { Ino = node.Id, Offset = 0, Length = 0 });
            Notify(Fuse.NotifyInvalInode, inode);
        }

        if (nodes.Find(parentPath) is { } parent && name.Length <= 255)
        {
            int size = OutHeaderSize + Unsafe.SizeOf<FuseNotifyInvalEntryOut>();
            Span<byte> entry = stackalloc byte[size + name.Length + 1];
            MemoryMarshal.Write(entry[OutHeaderSize..], new FuseNotifyInvalEntryOut { Parent = parent.Id, NameLen = (uint)name.Length });
            Encoding.Latin1.GetBytes(name, entry[size..]);
            entry[^1] = 0;
            Notify(Fuse.NotifyInvalEntry, entry);
        }
    }

    private void ReadLink(in FuseInHeader h)
    {
        if (nodes.Get(h.NodeId) is not { } node)
        {
            Reply(h.Unique, Errno.ESTALE);
            return;
        }

        Span<byte> message = stackalloc byte[OutHeaderSize + 4096];
        var e = tree.ReadLink(node.Path, message[OutHeaderSize..], out int length);
        if (e != Errno.None)
        {
            Reply(h.Unique, e);
            return;
        }

        Send(h.Unique, Errno.None, message[..(OutHeaderSize + length)]);
    }

    private void StartOpen(in FuseInHeader h, ReadOnlySpan<byte> body, bool directory)
    {
        if (nodes.Get(h.NodeId) is not { } node)
        {
            Reply(h.Unique, Errno.ESTALE);
            return;
        }

        uint flags = MemoryMarshal.Read<FuseOpenIn>(body).Flags;
        if (WriteIntent(flags))
        {
            Reply(h.Unique, Errno.EROFS);
            return;
        }

        var kind = directory ? ViewOpenKind.Directory : (flags & Fuse.FmodeExec) != 0 ? ViewOpenKind.Exec : ViewOpenKind.File;
        var request = new Pending(new CancellationTokenSource(), h.Pid);
        bool interrupted;
        lock (gate)
        {
            if (Volatile.Read(ref disposed) != 0)
            {
                return; // closing: the kernel fails the request when the device closes
            }

            interrupted = earlyInterrupts.Remove(h.Unique);
            pending[h.Unique] = request;
        }

        _ = DecideAsync(h.Unique, h.Pid, node, directory, kind, request.Cancel);
        if (interrupted)
        {
            Interrupt(h.Unique, early: false);
        }
    }

    /// <summary>
    /// Whether the kernel may keep the pages it has of this file (FOPEN_KEEP_CACHE) instead of reading it again
    /// through cordon: only when the host file is the version whose pages it took at the last OPEN (same change
    /// time, modification time and size; no program can set a change time), and nothing in the sandbox writes it.
    /// The pages are the same inode's (the open checked its identity), read after an OPEN that was decided.
    /// </summary>
    private bool KeepCache(ViewNode node, in Stat st)
    {
        if (st.Type != Kernel.S_IFREG)
        {
            return false;
        }

        var stamp = HostStamp.Of(st);
        var before = node.Cached;
        node.Cached = stamp;
        return before == stamp && !written.ContainsKey((st.Dev, st.Ino));
    }

    /// <summary>Any flag that could change the file: such opens are trapped by seccomp and performed by cordon.</summary>
    internal static bool WriteIntent(uint flags) =>
        (flags & Kernel.O_ACCMODE) != Kernel.O_RDONLY || (flags & (uint)(Kernel.O_TRUNC | Kernel.O_CREAT | Kernel.O_TMPFILE_BIT)) != 0;

    /// <summary>
    /// The errno a denial is sent with. ENOSYS would switch OPEN off for the whole mount (fuse_do_open), and a value
    /// that is not an errno would be misread: both become EACCES.
    /// </summary>
    internal static Errno Denial(Errno verdict) =>
        verdict is Errno.None or Errno.ENOSYS || (int)verdict < 0 || (int)verdict > 4095 ? Errno.EACCES : verdict;

    private async Task DecideAsync(ulong unique, uint tid, ViewNode node, bool directory, ViewOpenKind kind, CancellationTokenSource cancel)
    {
        Errno verdict;
        try
        {
            verdict = await decider.DecideOpenAsync(tree.HostPath(node.Path), tid, kind, cancel.Token).ConfigureAwait(false);
        }
        catch (Exception)
        {
            verdict = Errno.EACCES; // a decision that cannot be made denies (a cancelled one is answered already)
        }

        lock (gate)
        {
            if (!pending.Remove(unique))
            {
                return; // an INTERRUPT answered it, or the file system is closing
            }
        }

        try
        {
            if (verdict != Errno.None)
            {
                Reply(unique, Denial(verdict));
                return;
            }

            var e = tree.Open(node.Path, directory, node.Pinned || node.IsRoot ? null : node.Identity, out var fd, out var st);
            if (e != Errno.None)
            {
                Reply(unique, e);
                return;
            }

            ulong fh = (ulong)Interlocked.Increment(ref nextHandle);
            var handle = new OpenHandle(fd!, directory);
            handles[fh] = handle;
            // Nothing is ever written through the mirror, so a close has nothing to flush: no FLUSH at all (on kernels
            // before 5.16, which ignore the flag, the first FLUSH is answered ENOSYS, below).
            uint flags = (KeepCache(node, st) ? Fuse.FopenKeepCache : 0) | (directory ? 0 : Fuse.FopenNoFlush);
            if (!Reply(unique, new FuseOpenOut { Fh = fh, OpenFlags = flags }) && handles.TryRemove(fh, out _))
            {
                handle.Dispose(); // the request is gone (its thread was killed): no RELEASE will come
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Reply(unique, Errno.EIO);
        }
    }

    private void Interrupt(ulong target, bool early)
    {
        Pending? request;
        lock (gate)
        {
            if (!pending.TryGetValue(target, out request) && early)
            {
                // Its request may still be on its way in another reader (the kernel queues an interrupt as soon as
                // the request is read), or finished. Remembered briefly; forgotten when it cannot matter any more.
                long now = Environment.TickCount64;
                if (earlyInterrupts.Count >= 256)
                {
                    foreach (var old in earlyInterrupts.Where(e => now - e.Value > EarlyInterruptLifetimeMs).Select(e => e.Key).ToList())
                    {
                        earlyInterrupts.Remove(old);
                    }
                }

                earlyInterrupts[target] = now;
            }
        }

        if (request is null)
        {
            return;
        }

        if (ThreadSignals.Dying(request.Tid))
        {
            Withdraw(target);
        }
        else
        {
            _ = WatchAsync(target, request);
        }
    }

    /// <summary>Watches a thread whose wait a handled signal interrupted, until its decision comes or it is killed.</summary>
    private async Task WatchAsync(ulong unique, Pending request)
    {
        while (true)
        {
            await Task.Delay(WatchInterval).ConfigureAwait(false);
            lock (gate)
            {
                if (!pending.TryGetValue(unique, out var current) || !ReferenceEquals(current, request))
                {
                    return;
                }
            }

            if (ThreadSignals.Dying(request.Tid))
            {
                Withdraw(unique);
                return;
            }
        }
    }

    /// <summary>Gives up a pending request: its decision is cancelled and the kernel told EINTR.</summary>
    private void Withdraw(ulong unique)
    {
        Pending? request;
        lock (gate)
        {
            if (!pending.Remove(unique, out request))
            {
                return;
            }
        }

        _ = request.Cancel.CancelAsync();
        Reply(unique, Errno.EINTR);
    }

    private void ReadFile(in FuseInHeader h, ReadOnlySpan<byte> body)
    {
        var request = MemoryMarshal.Read<FuseReadIn>(body);
        if (!handles.TryGetValue(request.Fh, out var handle) || handle.Directory)
        {
            Reply(h.Unique, Errno.EBADF);
            return;
        }

        int size = (int)Math.Min(request.Size, MaxReadReply);
        byte[] message = ArrayPool<byte>.Shared.Rent(OutHeaderSize + size);
        try
        {
            var e = handle.Read(message.AsSpan(OutHeaderSize, size), (long)request.Offset, out int n);
            if (e != Errno.None)
            {
                Reply(h.Unique, e);
                return;
            }

            Send(h.Unique, Errno.None, message.AsSpan(0, OutHeaderSize + n));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(message);
        }
    }

    private void ReadDirectory(in FuseInHeader h, ReadOnlySpan<byte> body)
    {
        var request = MemoryMarshal.Read<FuseReadIn>(body);
        if (!handles.TryGetValue(request.Fh, out var handle) || !handle.Directory)
        {
            Reply(h.Unique, Errno.EBADF);
            return;
        }

        int size = (int)Math.Min(request.Size, MaxDirReply);
        byte[] message = ArrayPool<byte>.Shared.Rent(OutHeaderSize + size);
        byte[] dents = ArrayPool<byte>.Shared.Rent(size);
        try
        {
            var e = handle.List((long)request.Offset, dents.AsSpan(0, size), out int n);
            if (e != Errno.None)
            {
                Reply(h.Unique, e);
                return;
            }

            int written = DirectoryRecords.Convert(dents.AsSpan(0, n), message.AsSpan(OutHeaderSize, size), out _);
            Send(h.Unique, Errno.None, message.AsSpan(0, OutHeaderSize + written));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(dents);
            ArrayPool<byte>.Shared.Return(message);
        }
    }

    private void StatFs(in FuseInHeader h)
    {
        var e = tree.StatFs(out var st);
        if (e != Errno.None)
        {
            Reply(h.Unique, e);
            return;
        }

        Reply(h.Unique, new FuseStatfsOut
        {
            St = new FuseKstatfs
            {
                Blocks = st.Blocks,
                BFree = st.BFree,
                BAvail = st.BAvail,
                Files = st.Files,
                FFree = st.FFree,
                BSize = (uint)st.BSize,
                NameLen = (uint)st.NameLen,
                FrSize = (uint)st.FrSize,
            },
        });
    }

    private static FuseAttr Attr(in Stat st) => new()
    {
        Ino = st.Ino,
        Size = (ulong)st.Size,
        Blocks = (ulong)st.Blocks,
        Atime = (ulong)st.ATimeSec,
        Mtime = (ulong)st.MTimeSec,
        Ctime = (ulong)st.CTimeSec,
        AtimeNsec = (uint)st.ATimeNsec,
        MtimeNsec = (uint)st.MTimeNsec,
        CtimeNsec = (uint)st.CTimeNsec,
        Mode = st.Mode,
        Nlink = (uint)Math.Min(st.Nlink, uint.MaxValue),
        Uid = st.Uid,
        Gid = st.Gid,
        Rdev = 0,
        BlkSize = (uint)st.BlkSize,
    };

    private unsafe bool Reply<T>(ulong unique, in T payload)
        where T : unmanaged
    {
        Span<byte> message = stackalloc byte[OutHeaderSize + sizeof(T)];
        MemoryMarshal.Write(message[OutHeaderSize..], in payload);
        return Send(unique, Errno.None, message);
    }

    private bool Reply(ulong unique, Errno error)
    {
        Span<byte> message = stackalloc byte[OutHeaderSize];
        return Send(unique, error, message);
    }

    /// <summary>
    /// Writes one reply: <paramref name="message"/> starts with room for the header. One write per reply, so replies
    /// from several threads never interleave. False when the kernel no longer waits for it (ENOENT: the request was
    /// interrupted or its thread killed) or the device is closed.
    /// </summary>
    private bool Send(ulong unique, Errno error, Span<byte> message) => Write(unique, -(int)error, message);

    /// <summary>
    /// Writes one unsolicited message (its header's unique 0, the code in its error field). The kernel's answer
    /// (ENOENT: it holds no such node or name) changes nothing here.
    /// </summary>
    private void Notify(int code, Span<byte> message) => _ = Write(0, code, message);

    /// <summary>One message to the device, its header (at the start of <paramref name="message"/>) filled in.</summary>
    private bool Write(ulong unique, int error, Span<byte> message)
    {
        var header = new FuseOutHeader { Len = (uint)message.Length, Error = error, Unique = unique };
        MemoryMarshal.Write(message, in header);
        bool added = false;
        try
        {
            device.DangerousAddRef(ref added);
            return Libc.Write(device.Fd, message, message.Length) == message.Length;
        }
        catch (ObjectDisposedException)
        {
            return false;
        }
        finally
        {
            if (added)
            {
                device.DangerousRelease();
            }
        }
    }

    /// <summary>An OPEN or OPENDIR waiting for its decision, and the thread that asked.</summary>
    private sealed record Pending(CancellationTokenSource Cancel, uint Tid);

    /// <summary>A host file or directory opened for the kernel after an allowed OPEN or OPENDIR.</summary>
    private sealed class OpenHandle(SafeFd fd, bool directory) : IDisposable
    {
        private readonly Lock listing = new();

        public bool Directory => directory;

        public Errno Read(Span<byte> buffer, long offset, out int count)
        {
            count = 0;
            if (!Enter(out bool added))
            {
                return Errno.EBADF;
            }

            try
            {
                nint r;
                do
                {
                    r = Libc.PRead(fd.Fd, buffer, buffer.Length, offset);
                }
                while (r < 0 && Io.LastErrno == Errno.EINTR);
                if (r < 0)
                {
                    return Io.LastErrno;
                }

                count = (int)r;
                return Errno.None;
            }
            finally
            {
                Leave(added);
            }
        }

        public Errno Stat(out Stat st)
        {
            st = default;
            if (!Enter(out bool added))
            {
                return Errno.EBADF;
            }

            try
            {
                return Libc.FStat(fd.Fd, out st) == 0 ? Errno.None : Io.LastErrno;
            }
            finally
            {
                Leave(added);
            }
        }

        /// <summary>getdents64 from <paramref name="offset"/> (a cookie from an earlier record, or 0).</summary>
        public Errno List(long offset, Span<byte> buffer, out int count)
        {
            count = 0;
            lock (listing)
            {
                if (!Enter(out bool added))
                {
                    return Errno.EBADF;
                }

                try
                {
                    if (Libc.LSeek(fd.Fd, offset, Libc.SEEK_SET) < 0)
                    {
                        return Io.LastErrno;
                    }

                    nint r = Libc.GetDents64(fd.Fd, buffer, buffer.Length);
                    if (r < 0)
                    {
                        return Io.LastErrno;
                    }

                    count = (int)r;
                    return Errno.None;
                }
                finally
                {
                    Leave(added);
                }
            }
        }

        public void Dispose() => fd.Dispose();

        // A RELEASE may close the descriptor while another reader still uses it: the reference keeps the number
        // from being closed (and reused for another file) until the call returns.
        private bool Enter(out bool added)
        {
            added = false;
            try
            {
                fd.DangerousAddRef(ref added);
                return true;
            }
            catch (ObjectDisposedException)
            {
                return false;
            }
        }

        private void Leave(bool added)
        {
            if (added)
            {
                fd.DangerousRelease();
            }
        }
    }
}
