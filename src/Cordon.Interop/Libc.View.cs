using System.Runtime.InteropServices;

namespace Cordon.Interop;

/// <summary>The calls the view engine's FUSE file system makes on the host's files and on its own wake-up event.</summary>
public static partial class Libc
{
    /// <summary>eventfd(2) flags (include/uapi/linux/eventfd.h: the O_ values).</summary>
    public const int EFD_CLOEXEC = Kernel.O_CLOEXEC;
    public const int EFD_NONBLOCK = Kernel.O_NONBLOCK;

    /// <summary>ioctl FIONBIO (asm-generic/ioctls.h): sets or clears O_NONBLOCK on the open file.</summary>
    public const ulong FIONBIO = 0x5421;

    public const int SEEK_SET = 0;

    [LibraryImport(C, EntryPoint = "eventfd", SetLastError = true)]
    public static partial int EventFd(uint initialValue, int flags);

    [LibraryImport(C, EntryPoint = "fstatfs", SetLastError = true)]
    public static partial int FStatFs(int fd, out StatFs st);

    [LibraryImport(C, EntryPoint = "lseek", SetLastError = true)]
    public static partial long LSeek(int fd, long offset, int whence);

    /// <summary>getdents64(2): records of <see cref="Dirent64"/> layout, each followed by its NUL-terminated name.</summary>
    [LibraryImport(C, EntryPoint = "getdents64", SetLastError = true)]
    public static partial nint GetDents64(int fd, Span<byte> buf, nint count);

    [LibraryImport(C, EntryPoint = "write", SetLastError = true)]
    public static partial nint Write(int fd, ReadOnlySpan<byte> buf, nint count);
}

/// <summary>struct statfs (x86_64, asm-generic/statfs.h with 64-bit longs): 120 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct StatFs
{
    public long Type;
    public long BSize;
    public ulong Blocks;
    public ulong BFree;
    public ulong BAvail;
    public ulong Files;
    public ulong FFree;
    public fixed int FsId[2];
    public long NameLen;
    public long FrSize;
    public long Flags;
    public fixed long Spare[4];
}

/// <summary>
/// The fixed part of struct linux_dirent64 (getdents64(2)): d_ino, d_off, d_reclen, d_type; the name starts at
/// <see cref="NameOffset"/>. Read with the offsets below, not as a struct: the record is packed to 19 bytes.
/// </summary>
public static class Dirent64
{
    public const int InoOffset = 0;
    public const int OffOffset = 8;
    public const int RecLenOffset = 16;
    public const int TypeOffset = 18;
    public const int NameOffset = 19;
}
