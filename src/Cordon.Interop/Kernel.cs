namespace Cordon.Interop;

/// <summary>Kernel constants for x86_64 (include/uapi/asm-generic/fcntl.h, linux/fcntl.h, linux/seccomp.h, ...).</summary>
public static class Kernel
{
    // open(2) flags, asm-generic/fcntl.h (x86_64 uses the generic values).
    public const int O_ACCMODE = 0x3;
    public const int O_RDONLY = 0x0;
    public const int O_WRONLY = 0x1;
    public const int O_RDWR = 0x2;
    public const int O_CREAT = 0x40;
    public const int O_EXCL = 0x80;
    public const int O_NOCTTY = 0x100;
    public const int O_TRUNC = 0x200;
    public const int O_APPEND = 0x400;
    public const int O_NONBLOCK = 0x800;
    public const int O_DIRECTORY = 0x10000;
    public const int O_NOFOLLOW = 0x20000;
    public const int O_CLOEXEC = 0x80000;
    public const int O_PATH = 0x200000;
    /// <summary>O_TMPFILE includes O_DIRECTORY (__O_TMPFILE | O_DIRECTORY).</summary>
    public const int O_TMPFILE = 0x400000 | O_DIRECTORY;
    public const int O_TMPFILE_BIT = 0x400000;

    /// <summary>access(2) modes.</summary>
    public const int W_OK = 2;
    public const int X_OK = 1;

    // *at(2) flags, linux/fcntl.h.
    public const int AT_FDCWD = -100;
    public const int AT_SYMLINK_NOFOLLOW = 0x100;
    public const int AT_REMOVEDIR = 0x200;
    public const int AT_SYMLINK_FOLLOW = 0x400;
    public const int AT_EMPTY_PATH = 0x1000;

    // openat2 resolve flags, linux/openat2.h.
    public const ulong RESOLVE_NO_XDEV = 0x01;
    public const ulong RESOLVE_NO_MAGICLINKS = 0x02;
    public const ulong RESOLVE_NO_SYMLINKS = 0x04;
    public const ulong RESOLVE_BENEATH = 0x08;
    public const ulong RESOLVE_IN_ROOT = 0x10;
    public const ulong RESOLVE_CACHED = 0x20;

    // renameat2 flags, linux/fs.h.
    public const uint RENAME_NOREPLACE = 1;
    public const uint RENAME_EXCHANGE = 2;
    public const uint RENAME_WHITEOUT = 4;

    // stat mode bits.
    public const uint S_IFMT = 0xF000;
    public const uint S_IFSOCK = 0xC000;
    public const uint S_IFLNK = 0xA000;
    public const uint S_IFREG = 0x8000;
    public const uint S_IFBLK = 0x6000;
    public const uint S_IFDIR = 0x4000;
    public const uint S_ISUID = 0x800;
    public const uint S_ISGID = 0x400;
    public const uint S_IFCHR = 0x2000;
    public const uint S_IFIFO = 0x1000;

    // seccomp user notification, linux/seccomp.h. _IOWR('!', 0, struct seccomp_notif) etc.
    public const ulong SECCOMP_IOCTL_NOTIF_RECV = 0xC0502100;
    public const ulong SECCOMP_IOCTL_NOTIF_SEND = 0xC0182101;
    public const ulong SECCOMP_IOCTL_NOTIF_ID_VALID = 0x40082102;
    public const ulong SECCOMP_IOCTL_NOTIF_ADDFD = 0x40182103;
    public const ulong SECCOMP_IOCTL_NOTIF_SET_FLAGS = 0x40082104;
    public const uint SECCOMP_USER_NOTIF_FLAG_CONTINUE = 1;
    public const uint SECCOMP_ADDFD_FLAG_SETFD = 1;
    public const uint SECCOMP_ADDFD_FLAG_SEND = 2;

    // poll(2).
    public const short POLLIN = 0x1;
    public const short POLLOUT = 0x4;
    public const short POLLERR = 0x8;
    public const short POLLHUP = 0x10;
    public const short POLLNVAL = 0x20;

    // sockets, linux/socket.h and friends.
    public const int AF_UNSPEC = 0;
    public const int AF_UNIX = 1;
    public const int AF_INET = 2;
    public const int AF_INET6 = 10;
    public const int AF_NETLINK = 16;
    public const int AF_PACKET = 17;
    public const int SOCK_STREAM = 1;
    public const int SOCK_DGRAM = 2;
    public const int SOCK_RAW = 3;
    public const int SOCK_SEQPACKET = 5;
    public const int SOCK_CLOEXEC = O_CLOEXEC;
    public const int SOL_SOCKET = 1;
    public const int SO_TYPE = 3;
    public const int SO_PROTOCOL = 38;
    public const int SO_DOMAIN = 39;
    public const int SCM_RIGHTS = 1;
    public const int SCM_CREDENTIALS = 2;
    public const int IPPROTO_TCP = 6;
    public const int MSG_NOSIGNAL = 0x4000;
    public const int MSG_DONTWAIT = 0x40;
    public const int MSG_FASTOPEN = 0x20000000;

    // syscall numbers this assembly calls directly (arch/x86/entry/syscalls/syscall_64.tbl).
    public const long SYS_setfsuid = 122;
    public const long SYS_setfsgid = 123;
    public const long SYS_pidfd_send_signal = 424;
    public const long SYS_pidfd_open = 434;
    public const long SYS_openat2 = 437;
    public const long SYS_pidfd_getfd = 438;

    /// <summary>pidfd_open flag: the pid is a thread id (include/uapi/linux/pidfd.h, = O_EXCL; not in Debian 12 headers).</summary>
    public const uint PIDFD_THREAD = 0x80;

    public const int SIGKILL = 9;
    public const int SIGTERM = 15;
    public const int SIGINT = 2;
    public const int SIGCONT = 18;
    public const int SIGWINCH = 28;
    public const int SIGSTOP = 19;
    public const int SIGTSTP = 20;
    public const int WNOHANG = 1;
    public const int WALL = 0x40000000;

    public const int PathMax = 4096;
}
