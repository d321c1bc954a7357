using System.Buffers.Binary;
using System.Text;
using Cordon.Interop;

namespace Cordon.Supervisor.View;

/// <summary>
/// The host side of the view: every access by a path relative to the mirrored root, resolved with openat2
/// (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS). The kernel walks the view's symlinks itself (READLINK), so a path it
/// hands to FUSE is made of directories only; a symlink met on the host on the way means the host changed behind
/// the kernel's back (a directory swapped for a link, by cordon performing the program's rename), and following it
/// would serve a file from where the link points under the name that was decided. It is refused as ESTALE, which
/// makes the kernel look the path up again (fs/namei.c retries a path walk once with LOOKUP_REVAL).
/// </summary>
internal sealed class HostTree : IDisposable
{
    private const ulong Beneath = Kernel.RESOLVE_BENEATH | Kernel.RESOLVE_NO_SYMLINKS | Kernel.RESOLVE_NO_MAGICLINKS;

    private readonly SafeFd root;

    public HostTree(string hostRoot)
    {
        if (!System.IO.Path.IsPathFullyQualified(hostRoot))
        {
            throw new ArgumentException($"the view's host root must be an absolute path: {hostRoot}", nameof(hostRoot));
        }

        Root = Canonical(hostRoot);
        root = SafeFd.FromResult(Libc.OpenAt(Kernel.AT_FDCWD, Root, Kernel.O_PATH | Kernel.O_DIRECTORY | Kernel.O_CLOEXEC, 0), $"open({Root})");
    }

    /// <summary>The mirrored directory, canonical ("/" in the engine).</summary>
    public string Root { get; }

    /// <summary>The host path of a relative path as text: what the decider is asked about.</summary>
    public string HostPath(string relative)
    {
        if (relative.Length == 0)
        {
            return Root;
        }

        string text = Encoding.UTF8.GetString(Encoding.Latin1.GetBytes(relative));
        return Root == "/" ? "/" + text : Root + "/" + text;
    }

    /// <summary>The relative path (Latin-1 bytes) of an absolute host path at or below <see cref="Root"/>, or null.</summary>
    public string? Relative(string hostPath)
    {
        string full = System.IO.Path.GetFullPath(hostPath).TrimEnd('/');
        string rootSlash = Root == "/" ? "/" : Root + "/";
        if (full.Length == 0 || full == Root)
        {
            return "";
        }

        return full.StartsWith(rootSlash, StringComparison.Ordinal)
            ? Encoding.Latin1.GetString(Encoding.UTF8.GetBytes(full[rootSlash.Length..]))
            : null;
    }

    /// <summary>lstat of the path (the trailing symlink itself, never followed).</summary>
    public Errno Stat(string relative, out Stat st)
    {
        st = default;
        var e = OpenPath(relative, out var fd);
        if (e != Errno.None)
        {
            return e;
        }

        using (fd)
        {
            return Libc.FStat(fd.Fd, out st) == 0 ? Errno.None : Io.LastErrno;
        }
    }

    /// <summary>readlink of the path into <paramref name="target"/>; <paramref name="length"/> bytes.</summary>
    public Errno ReadLink(string relative, Span<byte> target, out int length)
    {
        length = 0;
        var e = OpenPath(relative, out var fd);
        if (e != Errno.None)
        {
            return e;
        }

        using (fd)
        {
            nint n = Libc.ReadLinkAt(fd.Fd, "\0"u8, target, target.Length);
            if (n < 0)
            {
                return Io.LastErrno;
            }

            length = (int)n;
            return Errno.None;
        }
    }

    /// <summary>
    /// Opens the path read-only for its contents: a regular file, or a directory when <paramref name="directory"/>.
    /// O_NONBLOCK keeps a FIFO swapped in on the host from blocking a thread; anything that is not the node's kind
    /// (or, unless <paramref name="expected"/> is null, not the node's inode) is ESTALE.
    /// </summary>
    public Errno Open(string relative, bool directory, HostIdentity? expected, out SafeFd? fd, out Stat st)
    {
        fd = null;
        st = default;
        int flags = Kernel.O_RDONLY | Kernel.O_NOFOLLOW | Kernel.O_CLOEXEC | Kernel.O_NONBLOCK | (directory ? Kernel.O_DIRECTORY : 0);
        var e = Resolve(relative, flags, out var opened);
        if (e != Errno.None)
        {
            return e;
        }

        if (Libc.FStat(opened.Fd, out st) != 0)
        {
            e = Io.LastErrno;
            opened.Dispose();
            return e;
        }

        uint type = directory ? Kernel.S_IFDIR : Kernel.S_IFREG;
        if (st.Type != type || (expected is { } id && (id.Dev != st.Dev || id.Ino != st.Ino)))
        {
            opened.Dispose();
            return Errno.ESTALE;
        }

        fd = opened;
        return Errno.None;
    }

    public Errno StatFs(out StatFs st) => Libc.FStatFs(root.Fd, out st) == 0 ? Errno.None : Io.LastErrno;

    public void Dispose() => root.Dispose();

    private Errno OpenPath(string relative, out SafeFd fd) =>
        Resolve(relative, Kernel.O_PATH | Kernel.O_NOFOLLOW | Kernel.O_CLOEXEC, out fd);

    private Errno Resolve(string relative, int flags, out SafeFd fd)
    {
        fd = null!;
        int count = relative.Length == 0 ? 1 : Encoding.Latin1.GetByteCount(relative);
        Span<byte> path = count < 1024 ? stackalloc byte[count + 1] : new byte[count + 1];
        if (relative.Length == 0)
        {
            path[0] = (byte)'.';
        }
        else
        {
            Encoding.Latin1.GetBytes(relative, path);
        }

        path[count] = 0;
        var how = new OpenHow { Flags = (ulong)flags, Resolve = Beneath };
        int r;
        bool added = false;
        try
        {
            // Disposed while a late request runs: the root's number must not be reused for another directory.
            root.DangerousAddRef(ref added);
            r = Libc.OpenAt2(root.Fd, path, how);
        }
        catch (ObjectDisposedException)
        {
            return Errno.EBADF;
        }
        finally
        {
            if (added)
            {
                root.DangerousRelease();
            }
        }

        if (r < 0)
        {
            var e = Io.LastErrno;

            // ELOOP: a symlink on the way (RESOLVE_NO_SYMLINKS) or at the end (O_NOFOLLOW); EXDEV: a ".." or an
            // absolute link would leave the root; ENOTDIR: a directory on the way (or the directory opened) is a
            // file now. Each means the host is not what the kernel saw.
            return e is Errno.ELOOP or Errno.EXDEV or Errno.ENOTDIR ? Errno.ESTALE : e;
        }

        fd = new SafeFd(r);
        return Errno.None;
    }

    private static string Canonical(string path)
    {
        nint p = Libc.RealPath(path, 0);
        if (p == 0)
        {
            throw new ErrnoException($"realpath({path})", Io.LastErrno);
        }

        try
        {
            return System.Runtime.InteropServices.Marshal.PtrToStringUTF8(p)!;
        }
        finally
        {
            Libc.Free(p);
        }
    }
}

/// <summary>A directory's entries from getdents64, turned into FUSE READDIR records.</summary>
internal static class DirectoryRecords
{
    /// <summary>
    /// Converts the getdents64 records in <paramref name="dents"/> into fuse_dirent records in <paramref name="output"/>
    /// until it is full. Each record's offset is the host's d_off, a cookie the next READDIR hands back for lseek.
    /// Returns the bytes written; <paramref name="all"/> says whether every record fitted.
    /// </summary>
    public static int Convert(ReadOnlySpan<byte> dents, Span<byte> output, out bool all)
    {
        int written = 0;
        int at = 0;
        all = true;
        while (at + Dirent64.NameOffset <= dents.Length)
        {
            var record = dents[at..];
            int reclen = BinaryPrimitives.ReadUInt16LittleEndian(record[Dirent64.RecLenOffset..]);
            if (reclen <= Dirent64.NameOffset || reclen > record.Length)
            {
                break; // not a record the kernel writes: stop rather than loop or read past the end
            }

            var name = record[Dirent64.NameOffset..reclen];
            int nul = name.IndexOf((byte)0);
            if (nul >= 0)
            {
                name = name[..nul];
            }

            int size = Fuse.DirentSize(name.Length);
            if (written + size > output.Length)
            {
                all = false;
                break;
            }

            var entry = new FuseDirent
            {
                Ino = BinaryPrimitives.ReadUInt64LittleEndian(record[Dirent64.InoOffset..]),
                Off = BinaryPrimitives.ReadUInt64LittleEndian(record[Dirent64.OffOffset..]),
                NameLen = (uint)name.Length,
                Type = record[Dirent64.TypeOffset],
            };
            var slot = output.Slice(written, size);
            System.Runtime.InteropServices.MemoryMarshal.Write(slot, in entry);
            name.CopyTo(slot[Fuse.DirentNameOffset..]);
            slot[(Fuse.DirentNameOffset + name.Length)..].Clear();
            written += size;
            at += reclen;
        }

        return written;
    }
}
