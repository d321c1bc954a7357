using System.Runtime.InteropServices;

namespace Cordon.Interop;

/// <summary>errno values cordon uses (asm-generic/errno-base.h, asm-generic/errno.h; x86_64).</summary>
public enum Errno
{
    None = 0,
    EPERM = 1,
    ENOENT = 2,
    ESRCH = 3,
    EINTR = 4,
    EIO = 5,
    ENXIO = 6,
    E2BIG = 7,
    ENOEXEC = 8,
    EBADF = 9,
    ECHILD = 10,
    EAGAIN = 11,
    ENOMEM = 12,
    EACCES = 13,
    EFAULT = 14,
    EBUSY = 16,
    EEXIST = 17,
    EXDEV = 18,
    ENODEV = 19,
    ENOTDIR = 20,
    EISDIR = 21,
    EINVAL = 22,
    EMFILE = 24,
    ENOSPC = 28,
    EROFS = 30,
    EPIPE = 32,
    ERANGE = 34,
    ENAMETOOLONG = 36,
    ENOSYS = 38,
    ENOTEMPTY = 39,
    ELOOP = 40,
    EOPNOTSUPP = 95,
    EAFNOSUPPORT = 97,
    EMSGSIZE = 90,
    ENOTSOCK = 88,
    ECONNABORTED = 103,
    ECONNRESET = 104,
    EISCONN = 106,
    ENOTCONN = 107,
    ECONNREFUSED = 111,
    EINPROGRESS = 115,
    ESTALE = 116,
}

/// <summary>A failed system call: the call's name and its errno.</summary>
public sealed class ErrnoException : Exception
{
    public ErrnoException(string call, Errno errno)
        : base($"{call}: {Describe(errno)}")
    {
        Call = call;
        Errno = errno;
    }

    public ErrnoException()
        : this("syscall", Errno.EIO)
    {
    }

    public ErrnoException(string message)
        : this(message, Errno.EIO)
    {
    }

    public ErrnoException(string message, Exception inner)
        : base(message, inner)
    {
        Call = message;
        Errno = Errno.EIO;
    }

    public string Call { get; } = "";

    public Errno Errno { get; }

    public static string Describe(Errno errno) => Marshal.GetPInvokeErrorMessage((int)errno);
}

/// <summary>The one place where a libc return value becomes either a result or an exception.</summary>
public static class Io
{
    /// <summary>The errno of the last P/Invoke declared with SetLastError = true.</summary>
    public static Errno LastErrno => (Errno)Marshal.GetLastPInvokeError();

    /// <summary>Throws <see cref="ErrnoException"/> when <paramref name="result"/> is negative.</summary>
    public static int Check(int result, string call) =>
        result < 0 ? throw new ErrnoException(call, LastErrno) : result;

    public static long Check(long result, string call) =>
        result < 0 ? throw new ErrnoException(call, LastErrno) : result;

    /// <summary>Retries a call interrupted by a signal (EINTR), as the C library's callers must.</summary>
    public static int RetryOnEintr(Func<int> call)
    {
        while (true)
        {
            int r = call();
            if (r >= 0 || LastErrno != Errno.EINTR)
            {
                return r;
            }
        }
    }
}
