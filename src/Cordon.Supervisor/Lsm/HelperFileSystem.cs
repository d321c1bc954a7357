using System.Runtime.InteropServices;
using System.Text;
using Cordon.Interop;

namespace Cordon.Supervisor.Lsm;

/// <summary>
/// cordon's own FUSE file system for the LSM engine, speaking the kernel protocol on /dev/fuse (no maintained .NET
/// FUSE library exists). It holds one file, the helper executable, and serves only what exec needs (lookup,
/// getattr, open, read) plus the one thing it is for: a getxattr of <see cref="VerdictXattr"/> on the helper, which
/// a BPF LSM program issues while a sandboxed thread waits for a decision. The request header carries that thread's
/// id; the answer ("y" or "n") is written when the decision is made, however long that takes.
/// </summary>
public sealed class HelperFileSystem : IDisposable
{
    public const string HelperName = "helper";
    public const string VerdictXattr = "user.cordon.verdict";
    private const ulong HelperNode = 2;
    private const int ENOENT = 2, EIO = 5, ENOSYS = 38, ENODATA = 61, ERANGE = 34;
    private const ulong MS_NOSUID = 2, MS_NODEV = 4;
    private const int MNT_DETACH = 2;

    private readonly SafeFd device;
    private readonly byte[] helper;
    private readonly Func<uint, Task<bool>> decide;
    private readonly Thread loop;
    private int unmounted;

    /// <summary>Mounts the file system at <paramref name="mountPoint"/> (an empty directory only root can enter).</summary>
    /// <param name="decide">Called with the asking thread's id; its result is the verdict.</param>
    public HelperFileSystem(string mountPoint, byte[] helperExecutable, Func<uint, Task<bool>> decide)
    {
        MountPoint = mountPoint;
        helper = helperExecutable;
        this.decide = decide;
        device = SafeFd.FromResult(Libc.OpenAt(Kernel.AT_FDCWD, "/dev/fuse", Kernel.O_RDWR | Kernel.O_CLOEXEC, 0), "open(/dev/fuse)");
        // allow_other: bpf_get_file_xattr checks inode_permission as the *sandboxed* thread, and FUSE refuses every
        // user but the mounter without it (fuse_permission, fuse_allow_current_process). The sandbox still cannot
        // reach the mount: it sits in a directory only root may enter.
        string options = $"fd={device.Fd},rootmode=40000,user_id=0,group_id=0,allow_other";
        if (Libc.Mount("cordon", mountPoint, "fuse.cordon", MS_NOSUID | MS_NODEV, options) != 0)
        {
            var e = Io.LastErrno;
            device.Dispose();
            throw new ErrnoException($"mount(fuse at {mountPoint})", e);
        }

        loop = new Thread(Serve) { IsBackground = true, Name = "cordon-fuse" };
        loop.Start();
    }

    public string MountPoint { get; }

    public string HelperPath => Path.Combine(MountPoint, HelperName);

    /// <summary>getxattr requests answered so far (for tests).</summary>
    public long Answered => Interlocked.Read(ref answered);

    private long answered;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref unmounted, 1) == 0)
        {
            _ = Libc.Umount2(MountPoint, MNT_DETACH);
            loop.Join(TimeSpan.FromSeconds(2));
            device.Dispose();
        }
    }

    private unsafe void Serve()
    {
        // The kernel hands out one whole request per read, into a buffer of at least FUSE_MIN_READ_BUFFER bytes.
        var buffer = new byte[Fuse.MinReadBuffer + 128 * 1024];
        fixed (byte* p = buffer)
        {
            while (Volatile.Read(ref unmounted) == 0)
            {
                nint n = Libc.Read(device.Fd, p, buffer.Length);
                if (n < 0)
                {
                    var e = Io.LastErrno;
                    if (e is Errno.EINTR or Errno.ENOENT or Errno.EAGAIN)
                    {
                        continue; // ENOENT: the request was interrupted before we read it
                    }

                    return; // ENODEV: unmounted
                }

                if (n < sizeof(FuseInHeader))
                {
                    continue;
                }

                var header = *(FuseInHeader*)p;
                try
                {
                    Handle(header, new ReadOnlySpan<byte>(p + sizeof(FuseInHeader), (int)n - sizeof(FuseInHeader)));
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    Reply(header.Unique, EIO);
                }
            }
        }
    }

    private void Handle(in FuseInHeader h, ReadOnlySpan<byte> body)
    {
        switch (h.Opcode)
        {
            case Fuse.Init:
                var initIn = MemoryMarshal.Read<FuseInitIn>(body);
                var init = new FuseInitOut
                {
                    Major = Fuse.MajorVersion,
                    Minor = Fuse.MinorVersion,
                    MaxReadahead = initIn.MaxReadahead,
                    MaxBackground = 16,
                    CongestionThreshold = 12,
                    MaxWrite = 128 * 1024,
                    TimeGran = 1,
                };
                Reply(h.Unique, init);
                break;
            case Fuse.Lookup:
                if (h.NodeId == Fuse.RootId && NameOf(body) == HelperName)
                {
                    Reply(h.Unique, new FuseEntryOut { NodeId = HelperNode, EntryValid = 3600, AttrValid = 3600, Attr = Attr(HelperNode) });
                }
                else
                {
                    Reply(h.Unique, ENOENT);
                }

                break;
            case Fuse.GetAttr:
                Reply(h.Unique, new FuseAttrOut { AttrValid = 3600, Attr = Attr(h.NodeId) });
                break;
            case Fuse.Open:
            case Fuse.OpenDir:
                Reply(h.Unique, new FuseOpenOut { OpenFlags = Fuse.FopenKeepCache });
                break;
            case Fuse.Read:
                var read = MemoryMarshal.Read<FuseReadIn>(body);
                long start = Math.Min((long)read.Offset, helper.Length);
                int count = (int)Math.Min(read.Size, helper.Length - start);
                Reply(h.Unique, 0, h.NodeId == HelperNode ? helper.AsSpan((int)start, count) : []);
                break;
            case Fuse.ReadDir:
                Reply(h.Unique, 0, []); // nobody lists it; an empty listing is a valid answer
                break;
            case Fuse.Release:
            case Fuse.ReleaseDir:
            case Fuse.Flush:
            case Fuse.Access:
                Reply(h.Unique, 0);
                break;
            case Fuse.GetXattr:
                GetXattr(h, body);
                break;
            case Fuse.Forget:
            case Fuse.BatchForget:
            case Fuse.Interrupt:
                break; // no reply: an interrupted getxattr is still answered when its decision comes
            default:
                Reply(h.Unique, ENOSYS);
                break;
        }
    }

    private void GetXattr(FuseInHeader h, ReadOnlySpan<byte> body)
    {
        var request = MemoryMarshal.Read<FuseGetXattr>(body);
        string name = NameOf(body[Marshal.SizeOf<FuseGetXattr>()..]);
        if (h.NodeId != HelperNode || name != VerdictXattr)
        {
            Reply(h.Unique, ENODATA);
            return;
        }

        if (request.Size == 0)
        {
            Reply(h.Unique, new FuseGetXattr { Size = 1 }); // the size query: the value is one byte
            return;
        }

        if (request.Size < 1)
        {
            Reply(h.Unique, ERANGE);
            return;
        }

        _ = Task.Run(() => AnswerAsync(h.Unique, h.Pid));
    }

    private async Task AnswerAsync(ulong unique, uint tid)
    {
        bool allowed;
        try
        {
            allowed = await decide(tid).ConfigureAwait(false);
        }
        catch (Exception)
        {
            allowed = false; // a decision that cannot be made denies
        }

        Reply(unique, 0, allowed ? "y"u8 : "n"u8);
        Interlocked.Increment(ref answered);
    }

    private FuseAttr Attr(ulong node) => node == HelperNode
        ? new FuseAttr { Ino = HelperNode, Size = (ulong)helper.Length, Blocks = ((ulong)helper.Length + 511) / 512, Mode = Kernel.S_IFREG | 0x1ED, Nlink = 1, BlkSize = 4096 }
        : new FuseAttr { Ino = Fuse.RootId, Mode = Kernel.S_IFDIR | 0x1C0, Nlink = 2, BlkSize = 4096 };

    private static string NameOf(ReadOnlySpan<byte> body)
    {
        int end = body.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end < 0 ? body : body[..end]);
    }

    private unsafe void Reply<T>(ulong unique, T payload)
        where T : unmanaged => Reply(unique, 0, new ReadOnlySpan<byte>(&payload, sizeof(T)));

    private void Reply(ulong unique, int error) => Reply(unique, error, []);

    private unsafe void Reply(ulong unique, int error, ReadOnlySpan<byte> payload)
    {
        // One write per reply: concurrent replies from decision tasks never interleave.
        int len = sizeof(FuseOutHeader) + (error == 0 ? payload.Length : 0);
        var buffer = new byte[len];
        var header = new FuseOutHeader { Len = (uint)len, Error = -error, Unique = unique };
        MemoryMarshal.Write(buffer, in header);
        if (error == 0)
        {
            payload.CopyTo(buffer.AsSpan(sizeof(FuseOutHeader)));
        }

        fixed (byte* p = buffer)
        {
            // ENOENT: the request was aborted (its thread was killed); nothing to answer any more.
            _ = Libc.Write(device.Fd, p, len);
        }
    }
}
