using System.Runtime.InteropServices;

namespace Cordon.Interop;

/// <summary>
/// Calls that take buffers, declared with spans and refs (paths from a traced process are bytes, not text). Every
/// span passed as a path must end with its NUL: the C library reads up to it. The generated marshalling pins the
/// spans for the call, so the callers need no unsafe code.
/// </summary>
public static partial class Libc
{
    [LibraryImport(C, EntryPoint = "openat", SetLastError = true)]
    public static partial int OpenAt(int dirfd, ReadOnlySpan<byte> path, int flags, uint mode);

    [LibraryImport(C, EntryPoint = "readlinkat", SetLastError = true)]
    public static partial nint ReadLinkAt(int dirfd, ReadOnlySpan<byte> path, Span<byte> buf, nint size);

    [LibraryImport(C, EntryPoint = "fstatat", SetLastError = true)]
    public static partial int FStatAt(int dirfd, ReadOnlySpan<byte> path, out Stat st, int flags);

    [LibraryImport(C, EntryPoint = "unlinkat", SetLastError = true)]
    public static partial int UnlinkAt(int dirfd, ReadOnlySpan<byte> path, int flags);

    [LibraryImport(C, EntryPoint = "mkdirat", SetLastError = true)]
    public static partial int MkdirAt(int dirfd, ReadOnlySpan<byte> path, uint mode);

    [LibraryImport(C, EntryPoint = "mknodat", SetLastError = true)]
    public static partial int MknodAt(int dirfd, ReadOnlySpan<byte> path, uint mode, ulong dev);

    [LibraryImport(C, EntryPoint = "renameat2", SetLastError = true)]
    public static partial int RenameAt2(int olddirfd, ReadOnlySpan<byte> oldpath, int newdirfd, ReadOnlySpan<byte> newpath, uint flags);

    [LibraryImport(C, EntryPoint = "linkat", SetLastError = true)]
    public static partial int LinkAt(int olddirfd, ReadOnlySpan<byte> oldpath, int newdirfd, ReadOnlySpan<byte> newpath, int flags);

    [LibraryImport(C, EntryPoint = "symlinkat", SetLastError = true)]
    public static partial int SymlinkAt(ReadOnlySpan<byte> target, int newdirfd, ReadOnlySpan<byte> linkpath);

    [LibraryImport(C, EntryPoint = "fchmodat", SetLastError = true)]
    public static partial int FChmodAt(int dirfd, ReadOnlySpan<byte> path, uint mode, int flags);

    [LibraryImport(C, EntryPoint = "fchmod", SetLastError = true)]
    public static partial int FChmod(int fd, uint mode);

    [LibraryImport(C, EntryPoint = "fchownat", SetLastError = true)]
    public static partial int FChownAt(int dirfd, ReadOnlySpan<byte> path, uint owner, uint group, int flags);

    [LibraryImport(C, EntryPoint = "truncate", SetLastError = true)]
    public static partial int Truncate(ReadOnlySpan<byte> path, long length);

    /// <summary>utimensat(2); <paramref name="times"/> null means "now" for both.</summary>
    [LibraryImport(C, EntryPoint = "utimensat", SetLastError = true)]
    public static partial int UtimensAt(int dirfd, ReadOnlySpan<byte> path, Timespec[]? times, int flags);

    [LibraryImport(C, EntryPoint = "setxattr", SetLastError = true)]
    public static partial int SetXattr(ReadOnlySpan<byte> path, ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, nint size, int flags);

    [LibraryImport(C, EntryPoint = "removexattr", SetLastError = true)]
    public static partial int RemoveXattr(ReadOnlySpan<byte> path, ReadOnlySpan<byte> name);

    [LibraryImport(C, EntryPoint = "pread", SetLastError = true)]
    public static partial nint PRead(int fd, Span<byte> buf, nint count, long offset);

    [LibraryImport(C, EntryPoint = "read", SetLastError = true)]
    public static partial nint Read(int fd, Span<byte> buf, nint count);

    [LibraryImport(C, EntryPoint = "connect", SetLastError = true)]
    public static partial int Connect(int fd, ReadOnlySpan<byte> addr, uint len);

    [LibraryImport(C, EntryPoint = "bind", SetLastError = true)]
    public static partial int Bind(int fd, ReadOnlySpan<byte> addr, uint len);

    [LibraryImport(C, EntryPoint = "sendto", SetLastError = true)]
    public static partial nint SendTo(int fd, ReadOnlySpan<byte> buf, nint len, int flags, ReadOnlySpan<byte> addr, uint addrlen);

    [LibraryImport(C, EntryPoint = "getsockopt", SetLastError = true)]
    public static partial int GetSockOpt(int fd, int level, int name, ref int value, ref uint len);

    [LibraryImport(C, EntryPoint = "getsockname", SetLastError = true)]
    public static partial int GetSockName(int fd, Span<byte> addr, ref uint len);

    [LibraryImport(C, EntryPoint = "getpeername", SetLastError = true)]
    public static partial int GetPeerName(int fd, Span<byte> addr, ref uint len);

    [LibraryImport(C, EntryPoint = "poll", SetLastError = true)]
    public static partial int Poll(ref PollFd fd, nuint nfds, int timeout);

    /// <summary>The home directory of <paramref name="uid"/> in the user database (NSS included), or null.</summary>
    public static string? HomeOf(uint uid)
    {
        unsafe
        {
            Passwd* pw = GetPwUid(uid);
            return pw is null || pw->Dir == 0 ? null : Marshal.PtrToStringUTF8(pw->Dir);
        }
    }

    /// <summary>openat2(2), which the C library on Debian 12 does not wrap: through syscall(2).</summary>
    public static int OpenAt2(int dirfd, ReadOnlySpan<byte> path, in OpenHow how) =>
        (int)SyscallOpenAt2(Kernel.SYS_openat2, dirfd, path, how, Marshal.SizeOf<OpenHow>());

    [LibraryImport(C, EntryPoint = "syscall", SetLastError = true)]
    private static partial long SyscallOpenAt2(long number, long dirfd, ReadOnlySpan<byte> path, in OpenHow how, long size);
}
