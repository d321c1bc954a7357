using System.Runtime.InteropServices;

namespace Cordon.Interop;

/// <summary>
/// The FUSE kernel protocol, what the LSM engine's helper file system and the view engine's mirror use
/// (include/uapi/linux/fuse.h). Sizes are asserted in StructSizeTests; the protocol minor cordon speaks is
/// <see cref="MinorVersion"/>.
/// </summary>
public static class Fuse
{
    public const uint MajorVersion = 7;
    public const uint MinorVersion = 31;
    public const ulong RootId = 1;

    /// <summary>The kernel refuses reads into a smaller buffer (FUSE_MIN_READ_BUFFER).</summary>
    public const int MinReadBuffer = 8192;

    // enum fuse_opcode
    public const uint Lookup = 1;
    public const uint Forget = 2;
    public const uint GetAttr = 3;
    public const uint SetAttr = 4;
    public const uint ReadLink = 5;
    public const uint Symlink = 6;
    public const uint Mknod = 8;
    public const uint Mkdir = 9;
    public const uint Unlink = 10;
    public const uint Rmdir = 11;
    public const uint Rename = 12;
    public const uint Link = 13;
    public const uint Open = 14;
    public const uint Read = 15;
    public const uint Write = 16;
    public const uint StatFs = 17;
    public const uint Release = 18;
    public const uint Fsync = 20;
    public const uint SetXattr = 21;
    public const uint GetXattr = 22;
    public const uint ListXattr = 23;
    public const uint RemoveXattr = 24;
    public const uint Flush = 25;
    public const uint Init = 26;
    public const uint OpenDir = 27;
    public const uint ReadDir = 28;
    public const uint ReleaseDir = 29;
    public const uint FsyncDir = 30;
    public const uint Access = 34;
    public const uint Create = 35;
    public const uint Interrupt = 36;
    public const uint Destroy = 38;
    public const uint BatchForget = 42;
    public const uint Fallocate = 43;
    public const uint Rename2 = 45;
    public const uint CopyFileRange = 47;
    public const uint Tmpfile = 51;

    /// <summary>fuse_open_out.open_flags: keep the page cache across opens (the helper's bytes never change).</summary>
    public const uint FopenKeepCache = 1 << 1;

    /// <summary>fuse_open_out.open_flags: send no FLUSH when the file is closed (Linux 5.16+; older kernels ignore it).</summary>
    public const uint FopenNoFlush = 1 << 5;

    // enum fuse_notify_code: unsolicited messages from the server, sent in the out header's error field.
    public const int NotifyInvalInode = 2;
    public const int NotifyInvalEntry = 3;

    // fuse_init_in/out flags
    public const uint InitAsyncRead = 1 << 0;
    public const uint InitAtomicOTrunc = 1 << 3;
    public const uint InitAutoInvalData = 1 << 12;
    public const uint InitParallelDirops = 1 << 18;
    public const uint InitCacheSymlinks = 1 << 23;

    /// <summary>fuse_getattr_in.getattr_flags: <c>fh</c> names the open file (an fstat).</summary>
    public const uint GetAttrFh = 1 << 0;

    /// <summary>
    /// __FMODE_EXEC (include/linux/fcntl.h): in the open flags the kernel passes when it opens a file to execute it
    /// (fs/exec.c, do_open_execat).
    /// </summary>
    public const uint FmodeExec = 0x20;

    /// <summary>Size of the header of a fuse_dirent, before its name (FUSE_NAME_OFFSET).</summary>
    public const int DirentNameOffset = 24;

    /// <summary>FUSE_DIRENT_ALIGN: records are padded to 8 bytes.</summary>
    public static int DirentSize(int nameLength) => (DirentNameOffset + nameLength + 7) & ~7;
}

/// <summary>struct fuse_in_header: 40 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct FuseInHeader
{
    public uint Len;
    public uint Opcode;
    public ulong Unique;
    public ulong NodeId;
    public uint Uid;
    public uint Gid;
    /// <summary>The calling thread's id (task_pid), which is what the LSM engine keys its requests by.</summary>
    public uint Pid;
    public ushort TotalExtLen;
    public ushort Padding;
}

/// <summary>struct fuse_out_header: 16 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct FuseOutHeader
{
    public uint Len;
    public int Error;
    public ulong Unique;
}

/// <summary>struct fuse_init_in (the part every kernel sends): 16 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct FuseInitIn
{
    public uint Major;
    public uint Minor;
    public uint MaxReadahead;
    public uint Flags;
}

/// <summary>struct fuse_init_out: 64 bytes (protocol 7.23 and later expect the whole struct).</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct FuseInitOut
{
    public uint Major;
    public uint Minor;
    public uint MaxReadahead;
    public uint Flags;
    public ushort MaxBackground;
    public ushort CongestionThreshold;
    public uint MaxWrite;
    public uint TimeGran;
    public ushort MaxPages;
    public ushort MapAlignment;
    public uint Flags2;
    public uint MaxStackDepth;
    public fixed uint Unused[6];
}

/// <summary>struct fuse_attr: 88 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct FuseAttr
{
    public ulong Ino;
    public ulong Size;
    public ulong Blocks;
    public ulong Atime;
    public ulong Mtime;
    public ulong Ctime;
    public uint AtimeNsec;
    public uint MtimeNsec;
    public uint CtimeNsec;
    public uint Mode;
    public uint Nlink;
    public uint Uid;
    public uint Gid;
    public uint Rdev;
    public uint BlkSize;
    public uint Flags;
}

/// <summary>struct fuse_entry_out: 128 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct FuseEntryOut
{
    public ulong NodeId;
    public ulong Generation;
    public ulong EntryValid;
    public ulong AttrValid;
    public uint EntryValidNsec;
    public uint AttrValidNsec;
    public FuseAttr Attr;
}

/// <summary>struct fuse_attr_out: 104 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct FuseAttrOut
{
    public ulong AttrValid;
    public uint AttrValidNsec;
    public uint Dummy;
    public FuseAttr Attr;
}

/// <summary>
/// struct fuse_notify_inval_entry_out: 16 bytes, followed by the name and a NUL. Sent unsolicited (the header's
/// unique 0, its error field <see cref="Fuse.NotifyInvalEntry"/>): the kernel forgets its cached entry for the name.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public struct FuseNotifyInvalEntryOut
{
    public ulong Parent;
    public uint NameLen;
    public uint Flags;
}

/// <summary>
/// struct fuse_notify_inval_inode_out: 24 bytes. Sent unsolicited (<see cref="Fuse.NotifyInvalInode"/>): the kernel
/// forgets a node's cached attributes, and with Offset 0 and Length 0 its cached pages too; a negative Offset keeps
/// the pages.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public struct FuseNotifyInvalInodeOut
{
    public ulong Ino;
    public long Offset;
    public long Length;
}

/// <summary>struct fuse_open_out: 16 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct FuseOpenOut
{
    public ulong Fh;
    public uint OpenFlags;
    public int BackingId;
}

/// <summary>struct fuse_read_in: 40 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct FuseReadIn
{
    public ulong Fh;
    public ulong Offset;
    public uint Size;
    public uint ReadFlags;
    public ulong LockOwner;
    public uint Flags;
    public uint Padding;
}

/// <summary>struct fuse_getxattr_in and fuse_getxattr_out: 8 bytes each (size, padding).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct FuseGetXattr
{
    public uint Size;
    public uint Padding;
}

/// <summary>struct fuse_open_in: 8 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct FuseOpenIn
{
    public uint Flags;
    public uint OpenFlags;
}

/// <summary>struct fuse_forget_in: 8 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct FuseForgetIn
{
    public ulong NLookup;
}

/// <summary>struct fuse_forget_one: 16 bytes (the records after a fuse_batch_forget_in).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct FuseForgetOne
{
    public ulong NodeId;
    public ulong NLookup;
}

/// <summary>struct fuse_batch_forget_in: 8 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct FuseBatchForgetIn
{
    public uint Count;
    public uint Dummy;
}

/// <summary>struct fuse_getattr_in: 16 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct FuseGetAttrIn
{
    public uint GetAttrFlags;
    public uint Dummy;
    public ulong Fh;
}

/// <summary>struct fuse_release_in: 24 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct FuseReleaseIn
{
    public ulong Fh;
    public uint Flags;
    public uint ReleaseFlags;
    public ulong LockOwner;
}

/// <summary>struct fuse_access_in: 8 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct FuseAccessIn
{
    public uint Mask;
    public uint Padding;
}

/// <summary>struct fuse_interrupt_in: 8 bytes; <see cref="Unique"/> is the interrupted request's.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct FuseInterruptIn
{
    public ulong Unique;
}

/// <summary>struct fuse_kstatfs: 80 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct FuseKstatfs
{
    public ulong Blocks;
    public ulong BFree;
    public ulong BAvail;
    public ulong Files;
    public ulong FFree;
    public uint BSize;
    public uint NameLen;
    public uint FrSize;
    public uint Padding;
    public fixed uint Spare[6];
}

/// <summary>struct fuse_statfs_out: 80 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct FuseStatfsOut
{
    public FuseKstatfs St;
}

/// <summary>struct fuse_dirent without its name: 24 bytes (the name follows, the record padded to 8).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct FuseDirent
{
    public ulong Ino;
    public ulong Off;
    public uint NameLen;
    public uint Type;
}
