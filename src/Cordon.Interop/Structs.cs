using System.Runtime.InteropServices;

namespace Cordon.Interop;

// Every struct here mirrors a kernel ABI struct on x86_64; its size is asserted by a unit test.

/// <summary>struct stat (x86_64, arch/x86/include/uapi/asm/stat.h): 144 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct Stat
{
    public ulong Dev;
    public ulong Ino;
    public ulong Nlink;
    public uint Mode;
    public uint Uid;
    public uint Gid;
    private readonly int pad0;
    public ulong Rdev;
    public long Size;
    public long BlkSize;
    public long Blocks;
    public long ATimeSec;
    public long ATimeNsec;
    public long MTimeSec;
    public long MTimeNsec;
    public long CTimeSec;
    public long CTimeNsec;
    private readonly long reserved0;
    private readonly long reserved1;
    private readonly long reserved2;

    public readonly uint Type => Mode & Kernel.S_IFMT;
}

/// <summary>struct statx (include/uapi/linux/stat.h): 256 bytes. Only the fields cordon reads are named.</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct Statx
{
    /// <summary>statx mask bit: stx_mnt_id holds the mount's unique 64-bit id (Linux 6.8).</summary>
    public const uint STATX_MNT_ID_UNIQUE = 0x4000;
    public const uint STATX_TYPE = 0x1;
    public const uint STATX_INO = 0x100;

    public uint Mask;
    public uint BlkSize;
    public ulong Attributes;
    public uint Nlink;
    public uint Uid;
    public uint Gid;
    public ushort Mode;
    private readonly ushort spare0;
    public ulong Ino;
    private fixed byte middle[0x88 - 0x28]; // size, blocks, attributes_mask, four timestamps, rdev
    public uint DevMajor;
    public uint DevMinor;
    public ulong MntId;
    private fixed byte rest[0x100 - 0x98];

    public readonly uint Type => Mode & Kernel.S_IFMT;
}

/// <summary>struct passwd (glibc, x86_64): 48 bytes. The strings belong to libc.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct Passwd
{
    public nint Name;
    public nint Password;
    public uint Uid;
    public uint Gid;
    public nint Gecos;
    public nint Dir;
    public nint Shell;
}

/// <summary>struct timespec: 16 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct Timespec
{
    public long Sec;
    public long Nsec;
}

/// <summary>struct pollfd (poll(2)): 8 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct PollFd
{
    public int Fd;
    public short Events;
    public short REvents;
}

/// <summary>struct iovec: 16 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct IoVec
{
    public nint Base;
    public nuint Length;
}

/// <summary>struct msghdr (include/linux/socket.h user ABI): 56 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct MsgHdr
{
    public nint Name;
    public uint NameLen;
    private readonly uint pad0;
    public nint Iov;
    public ulong IovLen;
    public nint Control;
    public ulong ControlLen;
    public int Flags;
    private readonly int pad1;
}

/// <summary>struct seccomp_data (include/uapi/linux/seccomp.h): 64 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct SeccompData
{
    public int Nr;
    public uint Arch;
    public ulong InstructionPointer;
    public fixed ulong Args[6];

    /// <summary>The six arguments as an array (the fixed buffer cannot leave this struct without unsafe code).</summary>
    public readonly ulong[] ArgsArray()
    {
        fixed (ulong* a = Args)
        {
            return [a[0], a[1], a[2], a[3], a[4], a[5]];
        }
    }
}

/// <summary>struct seccomp_notif (include/uapi/linux/seccomp.h): 80 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct SeccompNotif
{
    public ulong Id;
    /// <summary>The thread id of the caller, in cordon's pid namespace.</summary>
    public int Pid;
    public uint Flags;
    public SeccompData Data;
}

/// <summary>struct seccomp_notif_resp (include/uapi/linux/seccomp.h): 24 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct SeccompNotifResp
{
    public ulong Id;
    public long Val;
    /// <summary>Negative errno, or 0.</summary>
    public int Error;
    public uint Flags;
}

/// <summary>struct seccomp_notif_addfd (include/uapi/linux/seccomp.h): 24 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct SeccompNotifAddfd
{
    public ulong Id;
    public uint Flags;
    public uint SrcFd;
    public uint NewFd;
    public uint NewFdFlags;
}

/// <summary>struct open_how (include/uapi/linux/openat2.h): 24 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct OpenHow
{
    public ulong Flags;
    public ulong Mode;
    public ulong Resolve;
}
