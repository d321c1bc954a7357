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

    /// <summary>openat(2) of a name in <paramref name="dir"/>: the new descriptor, or -1 with errno set.</summary>
    private static int OpenAtName(SafeFd dir, byte[] name, int flags, uint mode) =>
        Libc.OpenAt(dir.Fd, PathBytes.Z(name), flags, mode);

    private static byte[]? ReadLinkAt(SafeFd dir, byte[] name)
    {
        var buf = new byte[Kernel.PathMax];
        nint n = Libc.ReadLinkAt(dir.Fd, PathBytes.Z(name), buf, buf.Length);
        return n < 0 ? null : buf.AsSpan(0, (int)n).ToArray();
    }

    private static SafeFd Dup(SafeFd fd) =>
        SafeFd.FromResult(Reopen(fd, Kernel.O_PATH | Kernel.O_CLOEXEC), "reopen O_PATH");

    private static byte[] NameArg(byte[] name, bool trailingSlash) =>
        PathBytes.Z(trailingSlash ? [.. name, (byte)'/'] : name);

    private static int UnlinkAtName(SafeFd dir, byte[] name, bool trailingSlash, int flags) =>
        R(Libc.UnlinkAt(dir.Fd, NameArg(name, trailingSlash), flags));

    private static int MkdirAtName(SafeFd dir, byte[] name, uint mode) =>
        R(Libc.MkdirAt(dir.Fd, PathBytes.Z(name), mode));

    private static int MknodAtName(SafeFd dir, byte[] name, uint mode, ulong dev) =>
        R(Libc.MknodAt(dir.Fd, PathBytes.Z(name), mode, dev));

    private static int RenameAtNames(SafeFd oldDir, byte[] oldName, bool oldSlash, SafeFd newDir, byte[] newName, bool newSlash, uint flags) =>
        R(Libc.RenameAt2(oldDir.Fd, NameArg(oldName, oldSlash), newDir.Fd, NameArg(newName, newSlash), flags));

    // linkat(AT_SYMLINK_FOLLOW) on /proc/self/fd/N links the inode the descriptor holds (linkat(2) documents this
    // for O_TMPFILE files); AT_EMPTY_PATH would need CAP_DAC_READ_SEARCH.
    private static int LinkAtName(SafeFd source, SafeFd newDir, byte[] newName) =>
        R(Libc.LinkAt(Kernel.AT_FDCWD, PathBytes.Z(SelfFd(source)), newDir.Fd, PathBytes.Z(newName), Kernel.AT_SYMLINK_FOLLOW));

    private static int SymlinkAtName(byte[] target, SafeFd dir, byte[] name) =>
        R(Libc.SymlinkAt(PathBytes.Z(target), dir.Fd, PathBytes.Z(name)));

    private static int ChmodVia(SafeFd obj, uint mode) =>
        R(Libc.FChmodAt(Kernel.AT_FDCWD, PathBytes.Z(SelfFd(obj)), mode & 0xFFF, 0));

    // AT_EMPTY_PATH works on O_PATH descriptors for fchownat and needs no privilege, and it acts on a symlink itself
    // when the descriptor holds one (lchown).
    private static int ChownVia(SafeFd obj, uint owner, uint group) =>
        R(Libc.FChownAt(obj.Fd, "\0"u8, owner, group, Kernel.AT_EMPTY_PATH));

    private static int TruncateVia(SafeFd obj, long length) =>
        R(Libc.Truncate(PathBytes.Z(SelfFd(obj)), length));

    private static int UtimensVia(SafeFd obj, Timespec[]? times) =>
        R(Libc.UtimensAt(Kernel.AT_FDCWD, PathBytes.Z(SelfFd(obj)), times, 0));

    private static int SetXattrVia(SafeFd obj, byte[] nameZ, byte[] value, int flags) =>
        R(Libc.SetXattr(PathBytes.Z(SelfFd(obj)), nameZ, value, value.Length, flags));

    private static int RemoveXattrVia(SafeFd obj, byte[] nameZ) =>
        R(Libc.RemoveXattr(PathBytes.Z(SelfFd(obj)), nameZ));
}
