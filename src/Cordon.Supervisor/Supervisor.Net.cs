using System.Buffers.Binary;
using System.Net;
using System.Text;
using Cordon.Interop;
using Cordon.Policy;
using Cordon.Seccomp;

namespace Cordon.Supervisor;

/// <summary>
/// The network family. cordon duplicates the caller's socket (pidfd_getfd) and connects, binds or sends on its own
/// copy with its own copy of the address, so the address decided is the address used. Two consequences, documented in
/// the README: a Unix-socket peer sees cordon's pid in SO_PEERCRED (uid and gid are the same), and a relative Unix
/// socket path is resolved against the caller's working directory by cordon, not by the kernel.
/// </summary>
internal sealed partial class Supervisor
{
    private const int MaxSockaddr = 128;
    private const int MaxPayload = 16 << 20;

    internal readonly record struct SockAddr(int Family, byte[] Raw, IPAddress? Ip, int Port, byte[]? UnixPath, string? Abstract)
    {
        public bool Unnamed => Family == Kernel.AF_UNIX && UnixPath is null && Abstract is null;
    }

    internal static SockAddr ParseSockAddr(byte[] raw)
    {
        int family = raw.Length >= 2 ? BinaryPrimitives.ReadUInt16LittleEndian(raw) : -1;
        switch (family)
        {
            case Kernel.AF_INET when raw.Length >= 8:
                return new(family, raw, new IPAddress(raw.AsSpan(4, 4)), BinaryPrimitives.ReadUInt16BigEndian(raw.AsSpan(2)), null, null);
            case Kernel.AF_INET6 when raw.Length >= 24:
                var ip6 = new IPAddress(raw.AsSpan(8, 16));
                return new(family, raw, ip6.IsIPv4MappedToIPv6 ? ip6.MapToIPv4() : ip6, BinaryPrimitives.ReadUInt16BigEndian(raw.AsSpan(2)), null, null);
            case Kernel.AF_UNIX when raw.Length > 2 && raw[2] == 0:
                return new(family, raw, null, 0, null, "@" + Encoding.UTF8.GetString(raw.AsSpan(3)).Replace('\0', '@'));
            case Kernel.AF_UNIX when raw.Length > 2:
                var path = raw.AsSpan(2);
                int nul = path.IndexOf((byte)0);
                return new(family, raw, null, 0, (nul >= 0 ? path[..nul] : path).ToArray(), null);
            default:
                return new(family, raw, null, 0, null, null);
        }
    }

    internal static string FamilyName(int family) => family switch
    {
        Kernel.AF_INET => "inet",
        Kernel.AF_INET6 => "inet6",
        Kernel.AF_UNIX => "unix",
        Kernel.AF_NETLINK => "netlink",
        Kernel.AF_PACKET => "packet",
        _ => "family " + family,
    };

    private readonly DnsNames dns = new();

    private const int DnsPort = 53;

    private NetTarget TargetOf(SockAddr sa, string? unixCanonical = null) =>
        new(sa.Ip, sa.Port, dns.Of(sa.Ip), unixCanonical ?? sa.Abstract, FamilyName(sa.Family)) { Role = SystemResolvers.RoleOf(sa.Ip, sa.Port), SystemResolver = SystemResolvers.RoleOf(sa.Ip, sa.Port) is not null };

    /// <summary>
    /// An allowed message on its way to a DNS server: learn the names it asks about, from that server, before it
    /// leaves (DnsNames). Called only after the destination was decided: a denied datagram never makes cordon ask.
    /// </summary>
    private Task Observe(SockAddr? to, ReadOnlyMemory<byte> payload) =>
        to is { Ip: { } ip, Port: DnsPort } ? dns.ObserveQueryAsync(new IPEndPoint(ip, DnsPort), payload) : Task.CompletedTask;

    private static byte[]? ReadSockAddr(Call c, ulong addr, ulong len)
    {
        if (len < 2 || len > MaxSockaddr)
        {
            c.Fail(Errno.EINVAL);
            return null;
        }

        var raw = new byte[len];
        if (ProcessMemory.Read(c.Tid, addr, raw) != Errno.None)
        {
            c.Fail(Errno.EFAULT);
            return null;
        }

        if (!c.StillValid())
        {
            c.Fail(Errno.EIO);
            return null;
        }

        return raw;
    }

    /// <summary>cordon's own copy of the caller's socket fd, or null after answering the call.</summary>
    private static SafeFd? Socket(Call c, int fd)
    {
        using var pidfd = TryPidfd(c.Tid);
        if (pidfd is null)
        {
            c.Fail(Errno.EIO);
            return null;
        }

        int r = Pidfd.GetFd(pidfd, fd);
        if (r < 0)
        {
            c.Fail(r == -(int)Errno.EBADF ? Errno.EBADF : Errno.EIO);
            return null;
        }

        return new SafeFd(r);
    }

    /// <summary>
    /// Decides a destination. For Unix path sockets the socket file is resolved (following symlinks, like the
    /// kernel) and <paramref name="via"/> is a sockaddr naming that inode through /proc/self/fd, so the connection
    /// reaches exactly the socket decided. Returns false after answering the call.
    /// </summary>
    private async ValueTask<(bool Ok, byte[] Via, SafeFd? Hold)> DecideDestination(Call c, SockAddr sa, Operation op)
    {
        if (sa.Family == Kernel.AF_UNSPEC || sa.Unnamed)
        {
            return (true, sa.Raw, null); // AF_UNSPEC dissolves an association; an unnamed address reaches nobody
        }

        if (sa.UnixPath is not null)
        {
            var err = ResolveObject(c, Kernel.AT_FDCWD, sa.UnixPath, follow: true, emptyPath: false, out var obj, out string canonical);
            if (err != Errno.None)
            {
                c.Fail(err);
                return (false, sa.Raw, null);
            }

            if (!await Allowed(c, AccessKind.Net, op, "unix:" + canonical, "unix:" + PathBytes.Text(sa.UnixPath), TargetOf(sa, canonical)).ConfigureAwait(false))
            {
                obj!.Dispose();
                c.Fail(Errno.EACCES);
                return (false, sa.Raw, null);
            }

            return (true, UnixAddress(SelfFd(obj!)), obj);
        }

        var target = TargetOf(sa);
        if (!await Allowed(c, AccessKind.Net, op, target.Display, null, target).ConfigureAwait(false))
        {
            // Landlock answers EACCES for a denied TCP connect too; programs report it as "permission denied".
            c.Fail(Errno.EACCES);
            return (false, sa.Raw, null);
        }

        return (true, sa.Raw, null);
    }

    private static byte[] UnixAddress(string path)
    {
        var bytes = Encoding.UTF8.GetBytes(path);
        var raw = new byte[2 + bytes.Length + 1];
        BinaryPrimitives.WriteUInt16LittleEndian(raw, Kernel.AF_UNIX);
        bytes.CopyTo(raw, 2);
        return raw;
    }

    private async ValueTask Connect(Call c)
    {
        var raw = ReadSockAddr(c, c.Args[1], c.Args[2]);
        if (raw is null)
        {
            return;
        }

        using var sock = Socket(c, c.IntArg(0));
        if (sock is null)
        {
            return;
        }

        var (ok, via, hold) = await DecideDestination(c, ParseSockAddr(raw), Operation.Connect).ConfigureAwait(false);
        using (hold)
        {
            if (!ok)
            {
                return;
            }

            // A blocking connect can take seconds: never on the notification loop.
            await Task.Yield();
            c.Result(ConnectOn(sock, via));
        }
    }

    private async ValueTask Bind(Call c)
    {
        var raw = ReadSockAddr(c, c.Args[1], c.Args[2]);
        if (raw is null)
        {
            return;
        }

        using var sock = Socket(c, c.IntArg(0));
        if (sock is null)
        {
            return;
        }

        var sa = ParseSockAddr(raw);
        if (sa.UnixPath is null)
        {
            var target = TargetOf(sa);
            if (!sa.Unnamed && !await Allowed(c, AccessKind.Net, Operation.Bind, sa.Abstract is null ? target.Display : "unix:" + sa.Abstract, null, target).ConfigureAwait(false))
            {
                c.Fail(Errno.EACCES);
                return;
            }

            c.Result(BindOn(sock, raw));
            return;
        }

        // Binding a path creates a socket file: decided as creating that file.
        var err = ResolveParent(c, Kernel.AT_FDCWD, sa.UnixPath, out var dir, out var name, out _, out string resource);
        if (err != Errno.None)
        {
            c.Fail(err);
            return;
        }

        using (dir)
        {
            if (!await Allowed(c, AccessKind.Write, Operation.Create, resource, PathBytes.Text(sa.UnixPath)).ConfigureAwait(false))
            {
                c.Fail(Errno.EACCES);
                return;
            }

            // Bind by the decided directory's descriptor so a renamed or swapped parent cannot redirect it.
            var viaDir = Encoding.UTF8.GetBytes(SelfFd(dir!) + "/");
            if (viaDir.Length + name.Length >= 108)
            {
                c.Fail(Errno.ENAMETOOLONG);
                return;
            }

            // The socket file gets the socket inode's mode (0777, or what the program set with fchmod) less the
            // binder's umask (unix_bind in net/unix/af_unix.c), and cordon's umask is 0: so the caller's umask goes
            // into the socket's mode for the bind, and the socket's own mode is restored after it. A chmod of the new
            // name after the bind would follow whatever a second thread put there meanwhile (a symlink to a secret:
            // attack bind-chmod-race).
            uint own = Libc.FStat(sock.Fd, out var st) == 0 ? st.Mode & 0xFFF : 0x1FF;
            uint umask = ProcFs.Umask(c.Tid);
            _ = Libc.FChmod(sock.Fd, own & ~umask);
            int r = BindOn(sock, UnixAddress(SelfFd(dir!) + "/" + PathBytes.Text(name)));
            _ = Libc.FChmod(sock.Fd, own);
            c.Result(r);
        }
    }

    private async ValueTask Listen(Call c)
    {
        using var sock = Socket(c, c.IntArg(0));
        if (sock is null)
        {
            return;
        }

        var local = LocalAddress(sock);
        if (local is { Family: Kernel.AF_INET or Kernel.AF_INET6 } sa)
        {
            var target = TargetOf(sa);
            if (!await Allowed(c, AccessKind.Net, Operation.Listen, target.Display, null, target).ConfigureAwait(false))
            {
                c.Fail(Errno.EACCES);
                return;
            }
        }

        // Unix sockets were decided when their file was created at bind. Listen on cordon's copy: the fd number
        // in the caller could be swapped for another socket after the check.
        c.Result(R(Libc.Listen(sock.Fd, c.IntArg(1))));
    }

    private async ValueTask SendTo(Call c)
    {
        // The filter traps sendto with a destination address (arg 4), and small sends without one (DNS queries).
        if (c.Args[4] == 0)
        {
            await SmallSend(c).ConfigureAwait(false);
            return;
        }

        var raw = ReadSockAddr(c, c.Args[4], c.Args[5]);
        if (raw is null)
        {
            return;
        }

        ulong len = c.Args[2];
        if (len > MaxPayload)
        {
            c.Fail(Errno.EMSGSIZE);
            return;
        }

        var payload = new byte[len];
        if (ProcessMemory.Read(c.Tid, c.Args[1], payload) != Errno.None || !c.StillValid())
        {
            c.Fail(Errno.EFAULT);
            return;
        }

        using var sock = Socket(c, c.IntArg(0));
        if (sock is null)
        {
            return;
        }

        var (ok, via, hold) = await DecideDestination(c, ParseSockAddr(raw), Operation.Send).ConfigureAwait(false);
        using (hold)
        {
            if (!ok)
            {
                return;
            }

            if (SockOpt(sock, Kernel.SO_DOMAIN) == Kernel.AF_NETLINK)
            {
                // As for sendmsg (NetlinkToKernel): only to the kernel, and without the address.
                using var msg = OutgoingMessage.ForData(payload, raw);
                if (NetlinkToKernel(c, sock, msg))
                {
                    c.Result(msg.SendOn(sock, c.IntArg(3)));
                }

                return;
            }

            await Task.Yield();
            await Observe(ParseSockAddr(raw), payload).ConfigureAwait(false);
            c.Result(SendToOn(sock, payload, c.IntArg(3), via));
        }
    }

    /// <summary>
    /// send() of a few bytes on a connected socket: it reaches only the peer decided at connect, so the kernel may do
    /// it (CONTINUE; that it re-reads the buffer cannot change where the data goes). Before that, a datagram to port
    /// 53 is read as a DNS query, so that the names it asks about are known when the program connects (DnsNames).
    /// </summary>
    private async ValueTask SmallSend(Call c)
    {
        // Nothing here is a decision: when the socket cannot be inspected (a non-dumpable process, an fd that is not
        // a socket), the send simply goes on, and only the names of a query are not learned.
        using (var pidfd = TryPidfd(c.Tid))
        using (var sock = pidfd is null || Pidfd.GetFd(pidfd, c.IntArg(0)) is not (>= 0 and var fd) ? null : new SafeFd(fd))
        {
            // The peer was decided when the socket was connected (connect is trapped for every socket).
            if (sock is not null && SockOpt(sock, Kernel.SO_TYPE) == Kernel.SOCK_DGRAM && Address(sock, peer: true) is { Port: DnsPort } peer)
            {
                var payload = new byte[Math.Min(c.Args[2], FilterPlan.MaxDnsQuery)];
                if (ProcessMemory.Read(c.Tid, c.Args[1], payload) == Errno.None && c.StillValid())
                {
                    await Task.Yield();
                    await Observe(peer, payload).ConfigureAwait(false);
                }
            }
        }

        c.Continue();
    }

    /// <summary>
    /// sendmsg on a stream (TCP, Unix stream or seqpacket) cannot reach a new destination: the kernel ignores or
    /// refuses msg_name there, so its address is not decided (ReadMessage); the send itself is still performed on
    /// cordon's copy of the socket. MSG_FASTOPEN connects a TCP socket, so it is decided like any destination.
    /// </summary>
    private static bool StreamWithoutNewPeer(SafeFd sock, int flags)
    {
        if ((flags & Kernel.MSG_FASTOPEN) != 0)
        {
            return false;
        }

        int domain = SockOpt(sock, Kernel.SO_DOMAIN);
        int type = SockOpt(sock, Kernel.SO_TYPE);
        int protocol = SockOpt(sock, Kernel.SO_PROTOCOL);
        return domain switch
        {
            Kernel.AF_UNIX => type is Kernel.SOCK_STREAM or Kernel.SOCK_SEQPACKET,
            Kernel.AF_INET or Kernel.AF_INET6 => type == Kernel.SOCK_STREAM && protocol == Kernel.IPPROTO_TCP,
            _ => false,
        };
    }

    private async ValueTask SendMsg(Call c)
    {
        using var sock = Socket(c, c.IntArg(0));
        if (sock is null)
        {
            return;
        }

        int flags = c.IntArg(2);
        var msg = await ReadMessage(c, c.Args[1], stream: StreamWithoutNewPeer(sock, flags)).ConfigureAwait(false);
        if (msg is null)
        {
            return;
        }

        using (msg)
        {
            if (!NetlinkToKernel(c, sock, msg))
            {
                return;
            }

            await Task.Yield();
            await Observe(Destination(sock, msg), msg.Data).ConfigureAwait(false);
            c.Result(msg.SendOn(sock, flags));
        }
    }

    /// <summary>
    /// A netlink message that cordon sends on the program's socket is checked by the kernel against cordon: with an
    /// address in msg_name, rtnetlink and the other kernel families check only the sender's capabilities (the
    /// NETLINK_SKB_DST case of __netlink_ns_capable, net/netlink/af_netlink.c), so a root cordon would change
    /// addresses, routes and links for a program that holds no CAP_NET_ADMIN; and a message to another process
    /// carries cordon's credentials. So cordon sends only messages for the kernel, and without the address: the
    /// kernel then checks the capabilities of the socket's opener, the program. Multicast and messages to other
    /// processes are refused (EPERM). True when the message may go (its name possibly dropped); false when answered.
    /// </summary>
    private static bool NetlinkToKernel(Call c, SafeFd sock, OutgoingMessage msg)
    {
        if (SockOpt(sock, Kernel.SO_DOMAIN) != Kernel.AF_NETLINK)
        {
            return true;
        }

        // struct sockaddr_nl { sa_family_t; unsigned short pad; __u32 nl_pid; __u32 nl_groups; }: 0, 0 is the kernel.
        static bool Kernel0(byte[]? a) => a is { Length: >= 12 } && BitConverter.ToUInt32(a, 4) == 0 && BitConverter.ToUInt32(a, 8) == 0;
        if (Kernel0(Address(sock, peer: true)?.Raw) && (msg.Name is null || Kernel0(msg.Name)))
        {
            msg.DropName();
            return true;
        }

        c.Fail(Errno.EPERM);
        return false;
    }

    private async ValueTask SendMMsg(Call c)
    {
        using var sock = Socket(c, c.IntArg(0));
        if (sock is null)
        {
            return;
        }

        int flags = c.IntArg(3);
        bool stream = StreamWithoutNewPeer(sock, flags);

        // struct mmsghdr { struct msghdr msg_hdr; unsigned int msg_len; } is 64 bytes on x86_64.
        uint count = Math.Min((uint)c.Args[2], 1024u);
        int sent = 0;
        for (uint i = 0; i < count; i++)
        {
            ulong entry = c.Args[1] + (i * 64);
            var msg = await ReadMessage(c, entry, stream).ConfigureAwait(false);
            if (msg is null)
            {
                return; // answered (denied or fault)
            }

            using (msg)
            {
                if (!NetlinkToKernel(c, sock, msg))
                {
                    return;
                }

                await Task.Yield();
                await Observe(Destination(sock, msg), msg.Data).ConfigureAwait(false);
                int r = msg.SendOn(sock, flags);
                if (r < 0)
                {
                    c.Result(sent > 0 ? sent : r);
                    return;
                }

                var len = BitConverter.GetBytes((uint)r);
                _ = ProcessMemory.Write(c.Tid, entry + 56, len);
                sent++;
            }
        }

        c.Result(sent);
    }

    /// <summary>
    /// Reads a struct msghdr and everything it points to, decides its destination, and returns cordon's copy. On a
    /// connected stream (<paramref name="stream"/>) the kernel ignores or refuses the address, so none is decided: the
    /// message goes on cordon's copy of the socket as the program wrote it. It is never CONTINUEd: the kernel would
    /// look the descriptor number up again, and a second thread could have put an unconnected datagram socket under
    /// it (dup2), which sends to the address nobody decided.
    /// </summary>
    private async ValueTask<OutgoingMessage?> ReadMessage(Call c, ulong address, bool stream = false)
    {
        var hdr = new byte[56];
        if (ProcessMemory.Read(c.Tid, address, hdr) != Errno.None)
        {
            c.Fail(Errno.EFAULT);
            return null;
        }

        var msg = OutgoingMessage.Read(c, hdr, out var err, stream);
        if (msg is null)
        {
            c.Fail(err);
            return null;
        }

        if (!c.StillValid())
        {
            msg.Dispose();
            c.Fail(Errno.EIO);
            return null;
        }

        if (msg.Name is { } name && !stream)
        {
            var (ok, via, hold) = await DecideDestination(c, ParseSockAddr(name), Operation.Send).ConfigureAwait(false);
            if (!ok)
            {
                msg.Dispose();
                return null;
            }

            msg.UseName(via, hold);
        }

        return msg;
    }

    private static int SockOpt(SafeFd sock, int name)
    {
        int value = -1;
        uint len = sizeof(int);
        _ = Libc.GetSockOpt(sock.Fd, Kernel.SOL_SOCKET, name, ref value, ref len);
        return value;
    }

    private static SockAddr? LocalAddress(SafeFd sock) => Address(sock, peer: false);

    private static SockAddr? Address(SafeFd sock, bool peer)
    {
        var raw = new byte[MaxSockaddr];
        uint len = MaxSockaddr;
        if ((peer ? Libc.GetPeerName(sock.Fd, raw, ref len) : Libc.GetSockName(sock.Fd, raw, ref len)) < 0)
        {
            return null;
        }

        return ParseSockAddr(raw[..(int)Math.Min(len, MaxSockaddr)]);
    }

    /// <summary>Where a message goes (decided already): its own address, else the socket's connected peer.</summary>
    private static SockAddr? Destination(SafeFd sock, OutgoingMessage msg) =>
        msg.Name is { } name ? ParseSockAddr(name) : Address(sock, peer: true);

    private static int ConnectOn(SafeFd sock, byte[] addr) => R(Libc.Connect(sock.Fd, addr, (uint)addr.Length));

    private static int BindOn(SafeFd sock, byte[] addr) => R(Libc.Bind(sock.Fd, addr, (uint)addr.Length));

    private static int SendToOn(SafeFd sock, byte[] payload, int flags, byte[] addr)
    {
        nint n = Libc.SendTo(sock.Fd, payload, payload.Length, flags, addr, (uint)addr.Length);
        return n < 0 ? -(int)Io.LastErrno : (int)n;
    }
}
