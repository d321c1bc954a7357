using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Cordon.Interop;

/// <summary>
/// The few libbpf calls the LSM engine needs (libbpf 1.x, Debian's libbpf1; bpf/libbpf.h and bpf/bpf.h). libbpf
/// returns NULL or a negative errno and sets errno: every call here uses SetLastError.
/// </summary>
public static unsafe partial class LibBpf
{
    private const string Lib = "libbpf.so.1";

    [LibraryImport(Lib, EntryPoint = "bpf_object__open_file", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial nint ObjectOpenFile(string path, nint opts);

    [LibraryImport(Lib, EntryPoint = "bpf_object__load", SetLastError = true)]
    public static partial int ObjectLoad(BpfObjectHandle obj);

    [LibraryImport(Lib, EntryPoint = "bpf_object__close")]
    public static partial void ObjectClose(nint obj);

    [LibraryImport(Lib, EntryPoint = "bpf_object__find_map_fd_by_name", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial int FindMapFd(BpfObjectHandle obj, string name);

    [LibraryImport(Lib, EntryPoint = "bpf_object__next_program")]
    public static partial nint NextProgram(BpfObjectHandle obj, nint previous);

    [LibraryImport(Lib, EntryPoint = "bpf_program__name")]
    public static partial nint ProgramName(nint program);

    [LibraryImport(Lib, EntryPoint = "bpf_program__attach", SetLastError = true)]
    public static partial nint ProgramAttach(nint program);

    [LibraryImport(Lib, EntryPoint = "bpf_link__pin", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial int LinkPin(BpfLinkHandle link, string path);

    [LibraryImport(Lib, EntryPoint = "bpf_link__destroy")]
    public static partial int LinkDestroy(nint link);

    [LibraryImport(Lib, EntryPoint = "bpf_map_update_elem", SetLastError = true)]
    public static partial int MapUpdate(int fd, void* key, void* value, ulong flags);

    [LibraryImport(Lib, EntryPoint = "bpf_map_delete_elem", SetLastError = true)]
    public static partial int MapDelete(int fd, void* key);

    [LibraryImport(Lib, EntryPoint = "bpf_map_lookup_elem", SetLastError = true)]
    public static partial int MapLookup(int fd, void* key, void* value);

    [LibraryImport(Lib, EntryPoint = "bpf_map_get_next_key", SetLastError = true)]
    public static partial int MapNextKey(int fd, void* key, void* nextKey);

    /// <summary>Pins a map, program or link descriptor at a path in the BPF file system.</summary>
    [LibraryImport(Lib, EntryPoint = "bpf_obj_pin", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial int ObjectPin(int fd, string path);

    /// <summary>A descriptor for what is pinned at a path in the BPF file system (negative: failed).</summary>
    [LibraryImport(Lib, EntryPoint = "bpf_obj_get", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial int ObjectGet(string path);

    [LibraryImport(Lib, EntryPoint = "libbpf_set_print")]
    public static partial nint SetPrint(nint callback);
}

/// <summary>A loaded (or opened) BPF object; closing it unloads programs and maps no link still holds.</summary>
public sealed class BpfObjectHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public BpfObjectHandle()
        : base(ownsHandle: true)
    {
    }

    protected override bool ReleaseHandle()
    {
        LibBpf.ObjectClose(handle);
        return true;
    }
}

/// <summary>An attached program: destroying the link detaches it from its hook.</summary>
public sealed class BpfLinkHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public BpfLinkHandle(nint link)
        : base(ownsHandle: true)
    {
        SetHandle(link);
    }

    protected override bool ReleaseHandle() => LibBpf.LinkDestroy(handle) == 0;
}

/// <summary>native/lsm/cordon.bpf.c, struct cordon_run (the value in map "runs", keyed by the run's cgroup id): 8 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct LsmRun
{
    public uint HelperPid;
    public uint CordonTgid;
}

/// <summary>native/lsm/cordon.bpf.c, struct cordon_state (what all runs share): 16 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct LsmState
{
    /// <summary>The depth of the sandboxes' cgroups below the root cgroup.</summary>
    public uint CgroupLevel;

    /// <summary>Folder grants count only while they carry this number (the kernel bumps it when a directory moves or goes).</summary>
    public uint FolderGen;

    /// <summary>How many links the loader pinned.</summary>
    public uint Links;
    private readonly uint pad;
}

/// <summary>native/lsm/cordon.bpf.c, struct cordon_request: 424 + PATH_MAX (4096) bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct LsmRequest
{
    public const int PathMax = 4096;
    public const int NameMax = 256;
    public const int AddrMax = 128;
    public uint Op;
    public uint AddrLen;
    public ulong Dev;
    public ulong Ino;
    public uint Gen;
    private readonly uint pad;
    public fixed byte Answer[8];
    public fixed byte Addr[AddrMax];
    public fixed byte Name[NameMax];
    public fixed byte Path[PathMax];
}

/// <summary>native/lsm/cordon.bpf.c, struct cordon_key: 32 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct LsmVerdictKey
{
    /// <summary>The run (its cgroup's id).</summary>
    public ulong Cgroup;
    public ulong Dev;
    public ulong Ino;
    public uint Op;

    /// <summary>The inode's generation (i_generation), so that a reused inode number does not inherit a verdict.</summary>
    public uint Gen;
}

/// <summary>native/lsm/cordon.bpf.c, struct cordon_folder: 32 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct LsmFolderKey
{
    /// <summary>The run (its cgroup's id).</summary>
    public ulong Cgroup;

    /// <summary>The mount's unique id (statx STATX_MNT_ID_UNIQUE; struct mount's mnt_id_unique).</summary>
    public ulong Mnt;
    public ulong Ino;
    public uint Op;
    private readonly uint pad;
}
