namespace Cordon.Interop;

/// <summary>
/// Reads and writes another process's memory with process_vm_readv(2)/process_vm_writev(2). The same
/// ptrace access check as /proc/PID/mem applies: cordon (the ancestor, same uid) passes it unless the
/// process made itself non-dumpable.
/// </summary>
public static unsafe class ProcessMemory
{
    private const int PageSize = 4096;

    /// <summary>Reads exactly <paramref name="buffer"/>.Length bytes at <paramref name="address"/>; returns errno.</summary>
    public static Errno Read(int pid, ulong address, Span<byte> buffer)
    {
        if (buffer.IsEmpty)
        {
            return Errno.None;
        }

        fixed (byte* p = buffer)
        {
            var local = new IoVec { Base = (nint)p, Length = (nuint)buffer.Length };
            var remote = new IoVec { Base = (nint)address, Length = (nuint)buffer.Length };
            nint n = Libc.ProcessVmReadv(pid, &local, 1, &remote, 1, 0);
            if (n < 0)
            {
                return Io.LastErrno;
            }

            return n == buffer.Length ? Errno.None : Errno.EFAULT;
        }
    }

    public static Errno Write(int pid, ulong address, ReadOnlySpan<byte> data)
    {
        fixed (byte* p = data)
        {
            var local = new IoVec { Base = (nint)p, Length = (nuint)data.Length };
            var remote = new IoVec { Base = (nint)address, Length = (nuint)data.Length };
            nint n = Libc.ProcessVmWritev(pid, &local, 1, &remote, 1, 0);
            if (n < 0)
            {
                return Io.LastErrno;
            }

            return n == data.Length ? Errno.None : Errno.EFAULT;
        }
    }

    /// <summary>
    /// Reads a NUL-terminated string of at most <paramref name="buffer"/>.Length - 1 bytes. Reads page by page, so
    /// a string that ends just before an unmapped page is still read. Returns the length (without NUL), or -errno;
    /// -ENAMETOOLONG when no NUL was found within the buffer.
    /// </summary>
    public static int ReadCString(int pid, ulong address, Span<byte> buffer)
    {
        if (address == 0)
        {
            return -(int)Errno.EFAULT;
        }

        int total = 0;
        while (total < buffer.Length)
        {
            ulong at = address + (ulong)total;
            int chunk = (int)Math.Min((ulong)(PageSize - (int)(at % PageSize)), (ulong)(buffer.Length - total));
            var part = buffer.Slice(total, chunk);
            var err = Read(pid, at, part);
            if (err != Errno.None)
            {
                return -(int)err;
            }

            int nul = part.IndexOf((byte)0);
            if (nul >= 0)
            {
                return total + nul;
            }

            total += chunk;
        }

        return -(int)Errno.ENAMETOOLONG;
    }
}
