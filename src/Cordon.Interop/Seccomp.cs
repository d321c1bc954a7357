namespace Cordon.Interop;

/// <summary>
/// The seccomp user-notification listener: receive, answer, check, inject. Raw results are returned instead of
/// exceptions because "the caller is gone" (ENOENT) is an ordinary outcome on every one of these calls.
/// </summary>
public static unsafe class SeccompListener
{
    /// <summary>
    /// Receives one notification. The buffer is zeroed first: the kernel rejects a non-zeroed one with EINVAL
    /// (kernel/seccomp.c, seccomp_notify_recv checks the struct is zero-filled).
    /// </summary>
    public static Errno Receive(SafeFd listener, out SeccompNotif notif)
    {
        notif = default;
        fixed (SeccompNotif* p = &notif)
        {
            return Libc.Ioctl(listener.Fd, Kernel.SECCOMP_IOCTL_NOTIF_RECV, p) < 0 ? Io.LastErrno : Errno.None;
        }
    }

    /// <summary>Answers a notification: <paramref name="error"/> is a positive errno, or None for success with <paramref name="value"/>.</summary>
    public static Errno Respond(SafeFd listener, ulong id, Errno error, long value = 0)
    {
        var resp = new SeccompNotifResp { Id = id, Error = -(int)error, Val = error == Errno.None ? value : 0 };
        return Libc.Ioctl(listener.Fd, Kernel.SECCOMP_IOCTL_NOTIF_SEND, &resp) < 0 ? Io.LastErrno : Errno.None;
    }

    /// <summary>Lets the kernel run the call as the process asked. Safe only where the kernel re-reads no process memory.</summary>
    public static Errno Continue(SafeFd listener, ulong id)
    {
        var resp = new SeccompNotifResp { Id = id, Flags = Kernel.SECCOMP_USER_NOTIF_FLAG_CONTINUE };
        return Libc.Ioctl(listener.Fd, Kernel.SECCOMP_IOCTL_NOTIF_SEND, &resp) < 0 ? Io.LastErrno : Errno.None;
    }

    /// <summary>True while the notification is still pending: the caller has not died or been interrupted.</summary>
    public static bool IsValid(SafeFd listener, ulong id)
    {
        ulong copy = id;
        return Libc.Ioctl(listener.Fd, Kernel.SECCOMP_IOCTL_NOTIF_ID_VALID, &copy) == 0;
    }

    /// <summary>
    /// Installs <paramref name="sourceFd"/> in the caller and completes its system call with the new fd number
    /// (SECCOMP_ADDFD_FLAG_SEND): one atomic step, so no other thread of the caller can observe a half state.
    /// Returns the new fd number, or -errno.
    /// </summary>
    public static int InjectAndReturn(SafeFd listener, ulong id, int sourceFd, bool closeOnExec)
    {
        var addfd = new SeccompNotifAddfd
        {
            Id = id,
            Flags = Kernel.SECCOMP_ADDFD_FLAG_SEND,
            SrcFd = (uint)sourceFd,
            NewFdFlags = closeOnExec ? (uint)Kernel.O_CLOEXEC : 0,
        };
        int r = Libc.Ioctl(listener.Fd, Kernel.SECCOMP_IOCTL_NOTIF_ADDFD, &addfd);
        return r < 0 ? -(int)Io.LastErrno : r;
    }

    /// <summary>Installs an fd in the caller without completing its call (for SCM_RIGHTS-style results). Returns fd or -errno.</summary>
    public static int Inject(SafeFd listener, ulong id, int sourceFd, bool closeOnExec)
    {
        var addfd = new SeccompNotifAddfd
        {
            Id = id,
            SrcFd = (uint)sourceFd,
            NewFdFlags = closeOnExec ? (uint)Kernel.O_CLOEXEC : 0,
        };
        int r = Libc.Ioctl(listener.Fd, Kernel.SECCOMP_IOCTL_NOTIF_ADDFD, &addfd);
        return r < 0 ? -(int)Io.LastErrno : r;
    }
}

/// <summary>pidfd calls (pidfd_open(2), pidfd_getfd(2), pidfd_send_signal(2)).</summary>
public static class Pidfd
{
    public static SafeFd Open(int pid, uint flags = 0) =>
        SafeFd.FromResult((int)Libc.Syscall(Kernel.SYS_pidfd_open, pid, flags, 0), "pidfd_open");

    /// <summary>Duplicates fd <paramref name="targetFd"/> of the process into cordon. Returns fd or -errno.</summary>
    public static int GetFd(SafeFd pidfd, int targetFd)
    {
        long r = Libc.Syscall(Kernel.SYS_pidfd_getfd, pidfd.Fd, targetFd, 0);
        return r < 0 ? -(int)Io.LastErrno : (int)r;
    }

    public static int SendSignal(SafeFd pidfd, int signal) =>
        (int)Libc.Syscall(Kernel.SYS_pidfd_send_signal, pidfd.Fd, signal, 0, 0);
}
