using System.Runtime.InteropServices;
using System.Text;

namespace Cordon.Interop;

/// <summary>
/// Threads made with pthread_create that run managed code: the runtime takes a thread on when it first calls into
/// managed code. Starting one returns at once, where .NET's Thread.Start returns only once the new thread runs, and
/// the native build waits for that by spinning on sched_yield: about half a millisecond per thread on our machines,
/// taken from a CPU the launcher and the program need at a run's start. Such a thread is a background thread.
/// </summary>
public static unsafe partial class NativeThread
{
    private const int PR_SET_NAME = 15;

    /// <summary>Starts <paramref name="body"/> on a new thread named <paramref name="name"/> (the kernel keeps 15 bytes).</summary>
    public static void Start(string name, Action body)
    {
        ArgumentNullException.ThrowIfNull(body);
        var handle = GCHandle.Alloc(new Work(name, body));
        ulong thread;
        int rc = PthreadCreate(&thread, null, &Entry, GCHandle.ToIntPtr(handle));
        if (rc != 0)
        {
            handle.Free();
            throw new ErrnoException("pthread_create", (Errno)rc);
        }

        _ = PthreadDetach(thread);
    }

    [UnmanagedCallersOnly]
    private static nint Entry(nint argument)
    {
        var handle = GCHandle.FromIntPtr(argument);
        var work = (Work)handle.Target!;
        handle.Free();
        Span<byte> name = stackalloc byte[16];
        int n = Encoding.UTF8.GetBytes(work.Name.AsSpan(0, Math.Min(work.Name.Length, 15)), name);
        name[Math.Min(n, 15)] = 0;
        fixed (byte* p = name)
        {
            _ = Prctl(PR_SET_NAME, (nint)p, 0, 0, 0);
        }

        try
        {
            work.Body();
        }
        catch (Exception e)
        {
            // As for an unhandled exception on any thread: nothing can go on safely.
            Environment.FailFast($"cordon: thread {work.Name} failed: {e}");
        }

        return 0;
    }

    private sealed record Work(string Name, Action Body);

    [LibraryImport("libc", EntryPoint = "pthread_create")]
    private static partial int PthreadCreate(ulong* thread, void* attributes, delegate* unmanaged<nint, nint> start, nint argument);

    [LibraryImport("libc", EntryPoint = "pthread_detach")]
    private static partial int PthreadDetach(ulong thread);

    [LibraryImport("libc", EntryPoint = "prctl")]
    private static partial int Prctl(int option, nint arg2, nint arg3, nint arg4, nint arg5);
}
