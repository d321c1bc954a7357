using Cordon.Interop;

namespace Cordon.Supervisor;

/// <summary>
/// One trapped system call. Every path through a handler ends in exactly one answer: <see cref="Return"/>,
/// <see cref="Fail"/>, <see cref="Continue"/> or <see cref="ReturnFd"/>; the dispatcher answers EIO for any
/// call a handler left unanswered (fail closed: a notification that is never answered hangs the thread forever).
/// </summary>
internal sealed class Call
{
    private readonly SafeFd listener;
    private int answered;

    public Call(SafeFd listener, in SeccompNotif notif)
    {
        this.listener = listener;
        Id = notif.Id;
        Tid = notif.Pid;
        Nr = notif.Data.Nr;
        Args = notif.Data.ArgsArray();
    }

    public ulong Id { get; }

    /// <summary>The calling thread's id (seccomp reports thread ids, not process ids).</summary>
    public int Tid { get; }

    public int Nr { get; }

    public ulong[] Args { get; }

    public bool Answered => Volatile.Read(ref answered) != 0;

    /// <summary>An argument as the kernel reads an int (dirfd, flags): the low 32 bits, sign-extended.</summary>
    public int IntArg(int i) => unchecked((int)(uint)Args[i]);

    /// <summary>
    /// True while the call is still waiting for us. Checked after every read of the caller's memory: if the
    /// thread was killed or interrupted, its pid (and so what we read) may already belong to another process.
    /// </summary>
    public bool StillValid() => SeccompListener.IsValid(listener, Id);

    public void Return(long value) => Answer(() => SeccompListener.Respond(listener, Id, Errno.None, value));

    /// <summary>Answers with a raw result: a value, or -errno.</summary>
    public void Result(long valueOrMinusErrno)
    {
        if (valueOrMinusErrno < 0)
        {
            Fail((Errno)(-valueOrMinusErrno));
        }
        else
        {
            Return(valueOrMinusErrno);
        }
    }

    public void Fail(Errno errno) => Answer(() => SeccompListener.Respond(listener, Id, errno));

    /// <summary>Lets the kernel perform the call itself. Only where the kernel re-reads no memory we checked.</summary>
    public void Continue() => Answer(() => SeccompListener.Continue(listener, Id));

    /// <summary>Installs <paramref name="fd"/> in the caller and returns the new number as the call's result.</summary>
    public void ReturnFd(SafeFd fd, bool closeOnExec)
    {
        if (Interlocked.Exchange(ref answered, 1) != 0)
        {
            return;
        }

        // A failure here (ENOENT) means the caller is gone; nothing is left to answer.
        _ = SeccompListener.InjectAndReturn(listener, Id, fd.Fd, closeOnExec);
    }

    /// <summary>Installs an fd in the caller without answering (for fds passed inside a message). Returns fd or -errno.</summary>
    public int InjectOnly(int fd) => SeccompListener.Inject(listener, Id, fd, closeOnExec: false);

    private void Answer(Func<Errno> send)
    {
        if (Interlocked.Exchange(ref answered, 1) != 0)
        {
            return;
        }

        // ENOENT: the caller died or was interrupted meanwhile; there is nobody to answer.
        _ = send();
    }
}
