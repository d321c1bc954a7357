using System.Runtime.InteropServices;
using System.Text;
using Cordon.Interop;
using Cordon.Supervisor.View;
using Xunit;
using K = Cordon.Interop.Kernel;

namespace Cordon.Kernel.Tests;

/// <summary>
/// The view's FUSE server spoken to directly, over a SOCK_SEQPACKET pair standing in for /dev/fuse (one message per
/// request and per reply, as on the device), so that requests the kernel would not send on cue can be: a READ of a
/// handle that was never opened, an INTERRUPT that overtakes its request. No mount: runs for every user.
/// </summary>
public sealed class ViewProtocolTests : IDisposable
{
    private readonly string host;
    private readonly SafeFd peer;
    private readonly RecordingDecider decider = new();
    private readonly ViewFileSystem fs;
    private ulong unique = 2;

    public unsafe ViewProtocolTests()
    {
        host = Directory.CreateTempSubdirectory("cordon-view-proto-").FullName;
        File.WriteAllText(Path.Combine(host, "f"), "contents of f\n");
        int* sv = stackalloc int[2];
        Io.Check(Libc.SocketPair(K.AF_UNIX, K.SOCK_SEQPACKET | K.SOCK_CLOEXEC, 0, sv), "socketpair");
        peer = new SafeFd(sv[1]);
        fs = new ViewFileSystem(new SafeFd(sv[0]), decider, host, readers: 1);
        var init = Ask(Fuse.Init, 0, Bytes(new FuseInitIn { Major = 7, Minor = 45, MaxReadahead = 128 * 1024, Flags = uint.MaxValue }));
        Assert.Equal(0, init.Error);
        var outInit = MemoryMarshal.Read<FuseInitOut>(init.Body);
        Assert.Equal(7u, outInit.Major);
        Assert.Equal(4096u, outInit.MaxWrite);
        Assert.Equal(Fuse.InitAsyncRead | Fuse.InitAtomicOTrunc | Fuse.InitParallelDirops | Fuse.InitCacheSymlinks, outInit.Flags);
    }

    public void Dispose()
    {
        fs.Dispose();
        peer.Dispose();
        Directory.Delete(host, recursive: true);
    }

    [Fact]
    public void Nothing_is_read_without_an_allowed_open()
    {
        ulong node = LookUp("f");

        // A handle nobody opened, and the next handle number the server would give out.
        foreach (ulong fh in new ulong[] { 0, 1, 2, 12345 })
        {
            Assert.Equal(-(int)Errno.EBADF, Ask(Fuse.Read, node, Bytes(new FuseReadIn { Fh = fh, Size = 4096 })).Error);
        }

        decider.Rule = (_, _, _) => ValueTask.FromResult(Errno.EACCES);
        Assert.Equal(-(int)Errno.EACCES, Ask(Fuse.Open, node, Bytes(new FuseOpenIn())).Error);
        foreach (ulong fh in new ulong[] { 0, 1, 2 })
        {
            Assert.Equal(-(int)Errno.EBADF, Ask(Fuse.Read, node, Bytes(new FuseReadIn { Fh = fh, Size = 4096 })).Error);
        }

        decider.Rule = (_, _, _) => ValueTask.FromResult(Errno.None);
        var open = Ask(Fuse.Open, node, Bytes(new FuseOpenIn()));
        Assert.Equal(0, open.Error);
        ulong handle = MemoryMarshal.Read<FuseOpenOut>(open.Body).Fh;
        // The first open: no keep_cache, never direct_io; no FLUSH at its close (nothing is written through the mirror).
        Assert.Equal(Fuse.FopenNoFlush, MemoryMarshal.Read<FuseOpenOut>(open.Body).OpenFlags);
        var read = Ask(Fuse.Read, node, Bytes(new FuseReadIn { Fh = handle, Size = 4096 }));
        Assert.Equal("contents of f\n", Encoding.UTF8.GetString(read.Body));
        Assert.Equal(-(int)Errno.EBADF, Ask(Fuse.ReadDir, node, Bytes(new FuseReadIn { Fh = handle, Size = 4096 })).Error);

        Assert.Equal(0, Ask(Fuse.Release, node, Bytes(new FuseReleaseIn { Fh = handle })).Error);
        Assert.Equal(-(int)Errno.EBADF, Ask(Fuse.Read, node, Bytes(new FuseReadIn { Fh = handle, Size = 4096 })).Error);
    }

    [Fact]
    public void Writes_are_EROFS_unknown_requests_ENOSYS_and_a_failing_decider_denies()
    {
        ulong node = LookUp("f");
        int asked = decider.Asked.Count;
        foreach (uint flags in new uint[] { (uint)K.O_WRONLY, (uint)K.O_RDWR, (uint)K.O_TRUNC })
        {
            Assert.Equal(-(int)Errno.EROFS, Ask(Fuse.Open, node, Bytes(new FuseOpenIn { Flags = flags })).Error);
        }

        Assert.Equal(asked, decider.Asked.Count);
        foreach (uint op in new[] { Fuse.SetAttr, Fuse.Mkdir, Fuse.Unlink, Fuse.Create, Fuse.Write, Fuse.SetXattr, Fuse.Rename2, Fuse.Tmpfile })
        {
            Assert.Equal(-(int)Errno.EROFS, Ask(op, node, new byte[64]).Error);
        }

        Assert.Equal(-(int)Errno.ENOSYS, Ask(9999, node, []).Error);
        Assert.Equal(-(int)Errno.ENOSYS, Ask(Fuse.GetXattr, node, new byte[16]).Error);
        Assert.Equal(-(int)Errno.ESTALE, Ask(Fuse.GetAttr, 424242, new byte[16]).Error);

        decider.Rule = (_, _, _) => throw new InvalidOperationException("the policy broke");
        Assert.Equal(-(int)Errno.EACCES, Ask(Fuse.Open, node, Bytes(new FuseOpenIn())).Error);
        Assert.Equal(-(int)Errno.EACCES, Ask(Fuse.OpenDir, Fuse.RootId, Bytes(new FuseOpenIn())).Error);
    }

    [Fact]
    public void An_interrupt_that_overtakes_its_open_still_withdraws_it()
    {
        ulong node = LookUp("f");
        var cancelled = false;
        decider.Rule = async (_, _, cancel) =>
        {
            using var registration = cancel.Register(() => cancelled = true);
            await Task.Delay(Timeout.Infinite, cancel);
            return Errno.None;
        };

        // The INTERRUPT (unique | 1, as the kernel numbers them) is read before the OPEN it names; the asking thread
        // (pid 0x7fffffff) does not exist, so the wait is given up.
        ulong target = unique += 2;
        Send(Fuse.Interrupt, 0, target | 1, Bytes(new FuseInterruptIn { Unique = target }), pid: 0x7fffffff);
        Send(Fuse.Open, node, target, Bytes(new FuseOpenIn()), pid: 0x7fffffff);
        var reply = Receive();
        Assert.Equal(target, reply.Unique);
        Assert.Equal(-(int)Errno.EINTR, reply.Error);
        Assert.True(ViewMirror.Eventually(() => cancelled));

        // A LOOKUP still comes back: nothing is stuck.
        Assert.NotEqual(0ul, LookUp("f"));
    }

    [Fact]
    public void Names_and_attributes_are_kept_briefly_but_not_of_a_file_the_program_writes_and_flush_is_switched_off()
    {
        Directory.CreateDirectory(Path.Combine(host, "d"));
        var dir = Ask(Fuse.Lookup, Fuse.RootId, Encoding.UTF8.GetBytes("d\0"));
        Assert.Equal(0, dir.Error);
        var entry = MemoryMarshal.Read<FuseEntryOut>(dir.Body);
        Assert.Equal((ViewFileSystem.CacheSeconds, ViewFileSystem.CacheSeconds), (entry.EntryValid, entry.AttrValid));
        Assert.Equal(ViewFileSystem.CacheSeconds, MemoryMarshal.Read<FuseAttrOut>(Ask(Fuse.GetAttr, entry.NodeId, new byte[16]).Body).AttrValid);
        ulong file = LookUp("f");
        Assert.Equal(ViewFileSystem.CacheSeconds, MemoryMarshal.Read<FuseAttrOut>(Ask(Fuse.GetAttr, file, new byte[16]).Body).AttrValid);

        // The program got a descriptor of f open for writing (from cordon, on the host): the kernel is told to forget
        // what it kept of f, and is never again given its attributes to keep.
        Assert.Equal(0, Libc.FStatAt(K.AT_FDCWD, PathBytes(Path.Combine(host, "f")), out var st, 0));
        fs.OpenedForWriting(Path.Combine(host, "f"), st);
        Assert.Equal(Fuse.NotifyInvalInode, Receive().Error);
        Assert.Equal(Fuse.NotifyInvalEntry, Receive().Error);
        Assert.Equal(0ul, MemoryMarshal.Read<FuseAttrOut>(Ask(Fuse.GetAttr, file, new byte[16]).Body).AttrValid);
        Assert.Equal(0ul, MemoryMarshal.Read<FuseEntryOut>(Ask(Fuse.Lookup, Fuse.RootId, Encoding.UTF8.GetBytes("f\0")).Body).AttrValid);

        // A name that is not there: a negative entry (node id 0) kept as long as a name.
        var missing = Ask(Fuse.Lookup, Fuse.RootId, Encoding.UTF8.GetBytes("nothing-here\0"));
        Assert.Equal(0, missing.Error);
        var negative = MemoryMarshal.Read<FuseEntryOut>(missing.Body);
        Assert.Equal((0ul, ViewFileSystem.CacheSeconds), (negative.NodeId, negative.EntryValid));

        // Nothing is written through the mirror: ENOSYS makes the kernel stop sending FLUSH at every close.
        Assert.Equal(-(int)Errno.ENOSYS, Ask(Fuse.Flush, file, new byte[24]).Error);
    }

    [Fact]
    public void A_file_keeps_its_pages_from_one_open_to_the_next_only_while_it_is_the_same_version()
    {
        File.WriteAllText(Path.Combine(host, "g"), "version one\n");
        var g = MemoryMarshal.Read<FuseEntryOut>(Ask(Fuse.Lookup, Fuse.RootId, Encoding.UTF8.GetBytes("g\0")).Body).NodeId;
        uint Opened()
        {
            var open = Ask(Fuse.Open, g, Bytes(new FuseOpenIn()));
            Assert.Equal(0, open.Error);
            var o = MemoryMarshal.Read<FuseOpenOut>(open.Body);
            Assert.Equal(0, Ask(Fuse.Release, g, Bytes(new FuseReleaseIn { Fh = o.Fh })).Error);
            return o.OpenFlags & Fuse.FopenKeepCache;
        }

        Assert.Equal(0u, Opened()); // the first open: nothing to keep
        Assert.Equal(Fuse.FopenKeepCache, Opened()); // unchanged: the pages it has are this file's
        File.WriteAllText(Path.Combine(host, "g"), "version two\n"); // same size, new change time
        Assert.Equal(0u, Opened());
        Assert.Equal(Fuse.FopenKeepCache, Opened());
        Assert.Equal(0, Libc.FStatAt(K.AT_FDCWD, PathBytes(Path.Combine(host, "g")), out var st, 0));
        fs.OpenedForWriting(Path.Combine(host, "g"), st);
        Assert.Equal(Fuse.NotifyInvalInode, Receive().Error);
        Assert.Equal(Fuse.NotifyInvalEntry, Receive().Error);
        Assert.Equal(0u, Opened()); // the program may write it behind FUSE's back: never again
        Assert.Equal(0u, Opened());
    }

    private static byte[] PathBytes(string path) => Encoding.UTF8.GetBytes(path + "\0");

    [Fact]
    public void A_change_cordon_makes_is_sent_to_the_kernel_for_every_name_it_holds_except_pinned_ones()
    {
        Directory.CreateDirectory(Path.Combine(host, "d"));
        File.WriteAllText(Path.Combine(host, "d", "g"), "g\n");
        var d = MemoryMarshal.Read<FuseEntryOut>(Ask(Fuse.Lookup, Fuse.RootId, Encoding.UTF8.GetBytes("d\0")).Body).NodeId;
        var g = MemoryMarshal.Read<FuseEntryOut>(Ask(Fuse.Lookup, d, Encoding.UTF8.GetBytes("g\0")).Body).NodeId;

        // A name the kernel holds: its node (attributes and pages), then its entry in the folder.
        fs.Invalidate(Path.Combine(host, "d", "g"));
        var inode = Receive();
        Assert.Equal((0ul, Fuse.NotifyInvalInode), (inode.Unique, inode.Error));
        var inval = MemoryMarshal.Read<FuseNotifyInvalInodeOut>(inode.Body);
        Assert.Equal((g, 0L, 0L), (inval.Ino, inval.Offset, inval.Length));
        var name = Receive();
        Assert.Equal((0ul, Fuse.NotifyInvalEntry), (name.Unique, name.Error));
        var inName = MemoryMarshal.Read<FuseNotifyInvalEntryOut>(name.Body);
        Assert.Equal((d, 1u), (inName.Parent, inName.NameLen));
        Assert.Equal("g\0", Encoding.UTF8.GetString(name.Body.AsSpan(Marshal.SizeOf<FuseNotifyInvalEntryOut>())));

        // A name never looked up in a folder the kernel holds: only the entry (it may be there as a negative one).
        fs.Invalidate(Path.Combine(host, "d", "new"));
        var fresh = Receive();
        Assert.Equal(Fuse.NotifyInvalEntry, fresh.Error);
        Assert.Equal(d, MemoryMarshal.Read<FuseNotifyInvalEntryOut>(fresh.Body).Parent);

        // Pinned (a mount point, or above one): never, or the kernel would detach the mounts. Outside the root,
        // and in folders the kernel does not hold: nothing. The next message is the answer to a request.
        fs.Pin(Path.Combine(host, "d"));
        fs.Invalidate(Path.Combine(host, "d"));
        fs.Invalidate("/elsewhere/entirely");
        fs.Invalidate(""); // an object in no file system (a socket's fchmod)
        fs.Invalidate("socket:[1234]");
        fs.Invalidate(Path.Combine(host, "unknown", "x"));
        Assert.Equal(0, Ask(Fuse.GetAttr, Fuse.RootId, new byte[16]).Error);
    }

    private ulong LookUp(string name)
    {
        var entry = Ask(Fuse.Lookup, Fuse.RootId, Encoding.UTF8.GetBytes(name + "\0"));
        Assert.Equal(0, entry.Error);
        var outEntry = MemoryMarshal.Read<FuseEntryOut>(entry.Body);
        Assert.Equal(new FileInfo(Path.Combine(host, name)).Length, (long)outEntry.Attr.Size);
        Assert.Equal(ViewFileSystem.CacheSeconds, outEntry.EntryValid);
        return outEntry.NodeId;
    }

    private (ulong Unique, int Error, byte[] Body) Ask(uint opcode, ulong node, byte[] body)
    {
        ulong id = unique += 2;
        Send(opcode, node, id, body, pid: (uint)Environment.ProcessId);
        var reply = Receive();
        Assert.Equal(id, reply.Unique);
        return reply;
    }

    private unsafe void Send(uint opcode, ulong node, ulong id, byte[] body, uint pid)
    {
        var message = new byte[sizeof(FuseInHeader) + body.Length];
        var header = new FuseInHeader { Len = (uint)message.Length, Opcode = opcode, Unique = id, NodeId = node, Pid = pid };
        MemoryMarshal.Write(message, in header);
        body.CopyTo(message, sizeof(FuseInHeader));
        fixed (byte* p = message)
        {
            Assert.Equal(message.Length, (int)Libc.Send(peer.Fd, p, message.Length, K.MSG_NOSIGNAL));
        }
    }

    private unsafe (ulong Unique, int Error, byte[] Body) Receive()
    {
        var fd = new PollFd { Fd = peer.Fd, Events = K.POLLIN };
        Assert.Equal(1, Libc.Poll(ref fd, 1, 10_000));
        var buffer = new byte[1 << 17];
        nint n;
        fixed (byte* p = buffer)
        {
            n = Libc.Recv(peer.Fd, p, buffer.Length, 0);
        }

        Assert.True(n >= sizeof(FuseOutHeader));
        var header = MemoryMarshal.Read<FuseOutHeader>(buffer);
        Assert.Equal((uint)n, header.Len);
        return (header.Unique, header.Error, buffer[sizeof(FuseOutHeader)..(int)n]);
    }

    private static unsafe byte[] Bytes<T>(T value)
        where T : unmanaged
    {
        var bytes = new byte[sizeof(T)];
        MemoryMarshal.Write(bytes, in value);
        return bytes;
    }
}
