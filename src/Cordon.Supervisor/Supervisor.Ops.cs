using Cordon.Interop;

namespace Cordon.Supervisor;

/// <summary>
/// The operations cordon performs on the program's behalf, each on a descriptor it resolved and decided.
/// "Via" operations go through /proc/self/fd/N of an O_PATH descriptor: the magic link reaches that inode and no
/// other, without walking a path again. Each returns the call's result or -errno.
/// </summary>
internal sealed partial class Supervisor
{
    private static int R(int r) => r < 0 ? -(int)Io.LastErrno : r;

    private static unsafe int OpenAtName(SafeFd dir, byte[] name, int flags, uint mode)
    {
        var z = PathBytes.Z(name);
        fixed (byte* p = z)
        {
            return Libc.OpenAt(dir.Fd, p, flags, mode);
        }
    }

    private static unsafe byte[]? ReadLinkAt(SafeFd dir, byte[] name)
    {
        var z = PathBytes.Z(name);
        var buf = new byte[Kernel.PathMax];
        nint n;
        fixed (byte* p = z)
        fixed (byte* b = buf)
        {
            n = Libc.ReadLinkAt(dir.Fd, p, b, buf.Length);
        }

        return n < 0 ? null : buf.AsSpan(0, (int)n).ToArray();
    }

    private static SafeFd Dup(SafeFd fd) =>
        SafeFd.FromResult(Reopen(fd, Kernel.O_PATH | Kernel.O_CLOEXEC), "reopen O_PATH");

    private static byte[] NameArg(byte[] name, bool trailingSlash) =>
        PathBytes.Z(trailingSlash ? [.. name, (byte)'/'] : name);

    private static unsafe int UnlinkAtName(SafeFd dir, byte[] name, bool trailingSlash, int flags)
    {
        var z = NameArg(name, trailingSlash);
        fixed (byte* p = z)
        {
            return R(Libc.UnlinkAt(dir.Fd, p, flags));
        }
    }

    private static unsafe int MkdirAtName(SafeFd dir, byte[] name, uint mode)
    {
        var z = PathBytes.Z(name);
        fixed (byte* p = z)
        {
            return R(Libc.MkdirAt(dir.Fd, p, mode));
        }
    }

    private static unsafe int MknodAtName(SafeFd dir, byte[] name, uint mode, ulong dev)
    {
        var z = PathBytes.Z(name);
        fixed (byte* p = z)
        {
            return R(Libc.MknodAt(dir.Fd, p, mode, dev));
        }
    }

    private static unsafe int RenameAtNames(SafeFd oldDir, byte[] oldName, bool oldSlash, SafeFd newDir, byte[] newName, bool newSlash, uint flags)
    {
        var a = NameArg(oldName, oldSlash);
        var b = NameArg(newName, newSlash);
        fixed (byte* pa = a)
        fixed (byte* pb = b)
        {
            return R(Libc.RenameAt2(oldDir.Fd, pa, newDir.Fd, pb, flags));
        }
    }

    private static unsafe int LinkAtName(SafeFd source, SafeFd newDir, byte[] newName)
    {
        // linkat(AT_SYMLINK_FOLLOW) on /proc/self/fd/N links the inode the descriptor holds (linkat(2) documents
        // this for O_TMPFILE files); AT_EMPTY_PATH would need CAP_DAC_READ_SEARCH.
        var a = PathBytes.Z(SelfFd(source));
        var b = PathBytes.Z(newName);
        fixed (byte* pa = a)
        fixed (byte* pb = b)
        {
            return R(Libc.LinkAt(Kernel.AT_FDCWD, pa, newDir.Fd, pb, Kernel.AT_SYMLINK_FOLLOW));
        }
    }

    private static unsafe int SymlinkAtName(byte[] target, SafeFd dir, byte[] name)
    {
        var t = PathBytes.Z(target);
        var z = PathBytes.Z(name);
        fixed (byte* pt = t)
        fixed (byte* p = z)
        {
            return R(Libc.SymlinkAt(pt, dir.Fd, p));
        }
    }

    private static unsafe int ChmodVia(SafeFd obj, uint mode)
    {
        var z = PathBytes.Z(SelfFd(obj));
        fixed (byte* p = z)
        {
            return R(Libc.FChmodAt(Kernel.AT_FDCWD, p, mode & 0xFFF, 0));
        }
    }

    private static unsafe int ChownVia(SafeFd obj, uint owner, uint group)
    {
        // AT_EMPTY_PATH works on O_PATH descriptors for fchownat and needs no privilege, and it acts on a symlink
        // itself when the descriptor holds one (lchown).
        byte empty = 0;
        return R(Libc.FChownAt(obj.Fd, &empty, owner, group, Kernel.AT_EMPTY_PATH));
    }

    private static unsafe int TruncateVia(SafeFd obj, long length)
    {
        var z = PathBytes.Z(SelfFd(obj));
        fixed (byte* p = z)
        {
            return R(Libc.Truncate(p, length));
        }
    }

    private static unsafe int UtimensVia(SafeFd obj, Timespec[]? times)
    {
        var z = PathBytes.Z(SelfFd(obj));
        fixed (byte* p = z)
        {
            if (times is null)
            {
                return R(Libc.UtimensAt(Kernel.AT_FDCWD, p, null, 0));
            }

            fixed (Timespec* t = times)
            {
                return R(Libc.UtimensAt(Kernel.AT_FDCWD, p, t, 0));
            }
        }
    }

    private static unsafe int SetXattrVia(SafeFd obj, byte[] nameZ, byte[] value, int flags)
    {
        var z = PathBytes.Z(SelfFd(obj));
        fixed (byte* p = z)
        fixed (byte* n = nameZ)
        fixed (byte* v = value)
        {
            return R(Libc.SetXattr(p, n, v, value.Length, flags));
        }
    }

    private static unsafe int RemoveXattrVia(SafeFd obj, byte[] nameZ)
    {
        var z = PathBytes.Z(SelfFd(obj));
        fixed (byte* p = z)
        fixed (byte* n = nameZ)
        {
            return R(Libc.RemoveXattr(p, n));
        }
    }
}
