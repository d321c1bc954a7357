using System.Runtime.InteropServices;

namespace Cordon.Interop;

/// <summary>
/// The C library calls cordon makes. Every function sets errno (read it with <see cref="Io.LastErrno"/>).
/// Raw int descriptors appear here because these are the kernel's own words; owners wrap them in <see cref="SafeFd"/>.
/// </summary>
public static unsafe partial class Libc
{
    private const string C = "libc";

    [LibraryImport(C, EntryPoint = "geteuid")]
    public static partial int GetEUid();

    [LibraryImport(C, EntryPoint = "getegid")]
    public static partial int GetEGid();

    [LibraryImport(C, EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    [LibraryImport(C, EntryPoint = "openat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int OpenAt(int dirfd, string path, int flags, uint mode);

    [LibraryImport(C, EntryPoint = "read", SetLastError = true)]
    public static partial nint Read(int fd, byte* buf, nint count);

    [LibraryImport(C, EntryPoint = "write", SetLastError = true)]
    public static partial nint Write(int fd, byte* buf, nint count);

    [LibraryImport(C, EntryPoint = "fstat", SetLastError = true)]
    public static partial int FStat(int fd, out Stat st);

    [LibraryImport(C, EntryPoint = "fstatat", SetLastError = true)]
    public static partial int FStatAt(int dirfd, byte* path, out Stat st, int flags);

    /// <summary>The user database entry for a uid (NSS included), or null. Not thread-safe: call at start-up.</summary>
    [LibraryImport(C, EntryPoint = "getpwuid", SetLastError = true)]
    public static partial Passwd* GetPwUid(uint uid);

    [LibraryImport(C, EntryPoint = "statx", SetLastError = true)]
    public static partial int Statx(int dirfd, byte* path, int flags, uint mask, out Statx st);

    [LibraryImport(C, EntryPoint = "umask")]
    public static partial uint Umask(uint mask);

    [LibraryImport(C, EntryPoint = "getrandom", SetLastError = true)]
    private static partial nint GetRandom(void* buffer, nuint length, uint flags);

    /// <summary>
    /// Fills <paramref name="buffer"/> from the kernel's random source (getrandom(2)). .NET's RandomNumberGenerator
    /// calls OpenSSL on Linux, and the native build aborts the process where libssl is not installed.
    /// </summary>
    public static void RandomBytes(Span<byte> buffer)
    {
        fixed (byte* p = buffer)
        {
            for (int done = 0; done < buffer.Length;)
            {
                nint n = GetRandom(p + done, (nuint)(buffer.Length - done), 0);
                if (n < 0)
                {
                    if (Io.LastErrno == Errno.EINTR)
                    {
                        continue;
                    }

                    throw new ErrnoException("getrandom", Io.LastErrno);
                }

                done += (int)n;
            }
        }
    }

    [LibraryImport(C, EntryPoint = "getpid")]
    public static partial int GetPid();

    [LibraryImport(C, EntryPoint = "getuid")]
    public static partial uint GetUid();

    [LibraryImport(C, EntryPoint = "ioctl", SetLastError = true)]
    public static partial int Ioctl(int fd, ulong request, void* arg);

    [LibraryImport(C, EntryPoint = "ioctl", SetLastError = true)]
    public static partial int Ioctl(int fd, ulong request, nint arg);

    [LibraryImport(C, EntryPoint = "poll", SetLastError = true)]
    public static partial int Poll(PollFd* fds, nuint nfds, int timeout);

    [LibraryImport(C, EntryPoint = "syscall", SetLastError = true)]
    public static partial long Syscall(long number, long a1, long a2, long a3);

    [LibraryImport(C, EntryPoint = "syscall", SetLastError = true)]
    public static partial long Syscall(long number, long a1, long a2, long a3, long a4);

    [LibraryImport(C, EntryPoint = "process_vm_readv", SetLastError = true)]
    public static partial nint ProcessVmReadv(int pid, IoVec* local, ulong liovcnt, IoVec* remote, ulong riovcnt, ulong flags);

    [LibraryImport(C, EntryPoint = "process_vm_writev", SetLastError = true)]
    public static partial nint ProcessVmWritev(int pid, IoVec* local, ulong liovcnt, IoVec* remote, ulong riovcnt, ulong flags);

    [LibraryImport(C, EntryPoint = "socketpair", SetLastError = true)]
    public static partial int SocketPair(int domain, int type, int protocol, int* sv);

    [LibraryImport(C, EntryPoint = "send", SetLastError = true)]
    public static partial nint Send(int fd, byte* buf, nint len, int flags);

    [LibraryImport(C, EntryPoint = "recv", SetLastError = true)]
    public static partial nint Recv(int fd, byte* buf, nint len, int flags);

    [LibraryImport(C, EntryPoint = "listen", SetLastError = true)]
    public static partial int Listen(int fd, int backlog);

    [LibraryImport(C, EntryPoint = "sendmsg", SetLastError = true)]
    public static partial nint SendMsg(int fd, MsgHdr* msg, int flags);

    [LibraryImport(C, EntryPoint = "waitpid", SetLastError = true)]
    public static partial int WaitPid(int pid, out int status, int options);

    [LibraryImport(C, EntryPoint = "kill", SetLastError = true)]
    public static partial int Kill(int pid, int signal);

    [LibraryImport(C, EntryPoint = "posix_spawn", SetLastError = true)]
    public static partial int PosixSpawn(out int pid, byte* path, void* fileActions, void* attr, byte** argv, byte** envp);

    [LibraryImport(C, EntryPoint = "posix_spawn_file_actions_init")]
    public static partial int PosixSpawnFileActionsInit(void* actions);

    [LibraryImport(C, EntryPoint = "posix_spawn_file_actions_adddup2")]
    public static partial int PosixSpawnFileActionsAddDup2(void* actions, int fd, int newfd);

    [LibraryImport(C, EntryPoint = "posix_spawn_file_actions_destroy")]
    public static partial int PosixSpawnFileActionsDestroy(void* actions);

    [LibraryImport(C, EntryPoint = "realpath", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial nint RealPath(string path, nint resolved);

    [LibraryImport(C, EntryPoint = "free")]
    public static partial void Free(nint p);

    [LibraryImport(C, EntryPoint = "access", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Access(string path, int mode);

    [LibraryImport(C, EntryPoint = "isatty")]
    public static partial int IsATty(int fd);

    [LibraryImport(C, EntryPoint = "mount", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Mount(string source, string target, string fsType, ulong flags, string data);

    [LibraryImport(C, EntryPoint = "umount2", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Umount2(string target, int flags);

    [LibraryImport(C, EntryPoint = "chown", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Chown(string path, uint owner, uint group);
}
