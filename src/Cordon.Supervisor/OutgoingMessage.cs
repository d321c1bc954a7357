using System.Runtime.InteropServices;
using Cordon.Interop;

namespace Cordon.Supervisor;

/// <summary>
/// cordon's own copy of a message a traced process sends with sendmsg/sendmmsg: destination, data and control
/// data read once from the caller's memory. Descriptors passed with SCM_RIGHTS are duplicated from the caller, so
/// the receiver gets the same open files the caller named.
/// </summary>
internal sealed class OutgoingMessage : IDisposable
{
    private const int MaxIov = 1024;
    private const int MaxControl = 64 * 1024;
    private const int MaxData = 16 << 20;

    private readonly byte[] data;
    private readonly byte[] control;
    private readonly List<SafeFd> passed = [];
    private SafeFd? nameHold;

    private OutgoingMessage(byte[]? name, byte[] data, byte[] control)
    {
        Name = name;
        this.data = data;
        this.control = control;
    }

    public byte[]? Name { get; private set; }

    /// <summary>A message of plain data to <paramref name="name"/> (sendto).</summary>
    public static OutgoingMessage ForData(byte[] data, byte[]? name) => new(name, data, []);

    /// <summary>The data, as cordon will send it.</summary>
    public ReadOnlyMemory<byte> Data => data;

    /// <summary>Parses a struct msghdr (56 bytes) and reads what it points to. Null with <paramref name="error"/> on failure.</summary>
    /// <param name="stream">A stream socket: more than the largest copy is sent in part (a short write, which a
    /// stream's sender must handle anyway) instead of refused.</param>
    public static OutgoingMessage? Read(Call c, byte[] hdr, out Errno error, bool stream = false)
    {
        error = Errno.None;
        ulong nameAddr = BitConverter.ToUInt64(hdr, 0);
        uint nameLen = BitConverter.ToUInt32(hdr, 8);
        ulong iovAddr = BitConverter.ToUInt64(hdr, 16);
        ulong iovLen = BitConverter.ToUInt64(hdr, 24);
        ulong ctlAddr = BitConverter.ToUInt64(hdr, 32);
        ulong ctlLen = BitConverter.ToUInt64(hdr, 40);
        if (iovLen > MaxIov || ctlLen > MaxControl || nameLen > 128)
        {
            error = iovLen > MaxIov ? Errno.EMSGSIZE : Errno.EINVAL;
            return null;
        }

        byte[]? name = null;
        if (nameAddr != 0 && nameLen > 0)
        {
            name = new byte[nameLen];
            if (ProcessMemory.Read(c.Tid, nameAddr, name) != Errno.None)
            {
                error = Errno.EFAULT;
                return null;
            }
        }

        var iovs = new byte[iovLen * 16];
        if (ProcessMemory.Read(c.Tid, iovAddr, iovs) != Errno.None)
        {
            error = Errno.EFAULT;
            return null;
        }

        ulong total = 0;
        for (ulong i = 0; i < iovLen; i++)
        {
            total += BitConverter.ToUInt64(iovs, (int)(i * 16) + 8);
        }

        if (total > MaxData && !stream)
        {
            error = Errno.EMSGSIZE;
            return null;
        }

        var data = new byte[Math.Min(total, MaxData)];
        int at = 0;
        for (ulong i = 0; i < iovLen && at < data.Length; i++)
        {
            ulong b = BitConverter.ToUInt64(iovs, (int)(i * 16));
            int n = (int)Math.Min(BitConverter.ToUInt64(iovs, (int)(i * 16) + 8), (ulong)(data.Length - at));
            if (n > 0 && ProcessMemory.Read(c.Tid, b, data.AsSpan(at, n)) != Errno.None)
            {
                error = Errno.EFAULT;
                return null;
            }

            at += n;
        }

        var control = new byte[ctlLen];
        if (ctlLen > 0 && ProcessMemory.Read(c.Tid, ctlAddr, control) != Errno.None)
        {
            error = Errno.EFAULT;
            return null;
        }

        var msg = new OutgoingMessage(name, data, control);
        error = msg.TranslateRights(c);
        if (error != Errno.None)
        {
            msg.Dispose();
            return null;
        }

        return msg;
    }

    /// <summary>Replaces the destination with the one cordon resolved (a Unix socket reached through /proc/self/fd).</summary>
    public void UseName(byte[] via, SafeFd? hold)
    {
        Name = via;
        nameHold = hold;
    }

    /// <summary>Sends without an address (a netlink message to the kernel: see Supervisor.NetlinkDestination).</summary>
    public void DropName() => Name = null;

    /// <summary>
    /// Rewrites SCM_RIGHTS fd numbers from the caller's table to duplicates in cordon's (cmsg(3) layout). Checks
    /// that SCM_CREDENTIALS claim only the caller's own pid, uid and gid: the kernel checks the claim against the
    /// sender, which is cordon here (as root it may claim anything, and a daemon that trusts the credentials would
    /// believe a forged uid 0).
    /// </summary>
    private Errno TranslateRights(Call c)
    {
        int off = 0;
        while (off + 16 <= control.Length)
        {
            int len = (int)BitConverter.ToUInt64(control, off);
            int level = BitConverter.ToInt32(control, off + 8);
            int type = BitConverter.ToInt32(control, off + 12);
            if (len < 16 || off + len > control.Length)
            {
                return Errno.EINVAL;
            }

            if (level == Kernel.SOL_SOCKET && type == Kernel.SCM_CREDENTIALS)
            {
                // struct ucred { pid_t pid; uid_t uid; gid_t gid; } (include/linux/socket.h)
                if (len < 16 + 12 ||
                    BitConverter.ToInt32(control, off + 16) != ProcFs.Tgid(c.Tid) ||
                    !ProcFs.Ids(c.Tid, "Uid").Contains(BitConverter.ToUInt32(control, off + 20)) ||
                    !ProcFs.Ids(c.Tid, "Gid").Contains(BitConverter.ToUInt32(control, off + 24)))
                {
                    return Errno.EPERM;
                }
            }

            if (level == Kernel.SOL_SOCKET && type == Kernel.SCM_RIGHTS)
            {
                using var pidfd = Pidfd.Open(ProcFs.Tgid(c.Tid));
                for (int p = off + 16; p + 4 <= off + len; p += 4)
                {
                    int theirs = BitConverter.ToInt32(control, p);
                    int ours = Pidfd.GetFd(pidfd, theirs);
                    if (ours < 0)
                    {
                        return Errno.EBADF;
                    }

                    passed.Add(new SafeFd(ours));
                    BitConverter.TryWriteBytes(control.AsSpan(p), ours);
                }
            }

            off += (len + 7) & ~7;
        }

        return Errno.None;
    }

    public unsafe int SendOn(SafeFd sock, int flags)
    {
        fixed (byte* d = data)
        fixed (byte* ctl = control)
        fixed (byte* n = Name)
        {
            var iov = new IoVec { Base = (nint)d, Length = (nuint)data.Length };
            var hdr = new MsgHdr
            {
                Name = (nint)n,
                NameLen = (uint)(Name?.Length ?? 0),
                Iov = (nint)(&iov),
                IovLen = 1,
                Control = control.Length > 0 ? (nint)ctl : 0,
                ControlLen = (ulong)control.Length,
            };
            nint r = Libc.SendMsg(sock.Fd, &hdr, flags);
            return r < 0 ? -(int)Io.LastErrno : (int)r;
        }
    }

    public void Dispose()
    {
        foreach (var fd in passed)
        {
            fd.Dispose();
        }

        nameHold?.Dispose();
    }
}
