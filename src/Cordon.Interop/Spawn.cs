using System.Runtime.InteropServices;
using System.Text;

namespace Cordon.Interop;

/// <summary>
/// Starts a process with posix_spawn(3): no managed code runs between fork and exec, which the .NET runtime
/// could not survive. <paramref name="dup2"/> maps cordon's fds onto the child's numbers.
/// </summary>
public static unsafe class Spawn
{
    public static int Start(string path, IReadOnlyList<string> argv, IReadOnlyList<string> env, IReadOnlyList<(int From, int To)> dup2)
    {
        var strings = new List<nint>();
        try
        {
            byte* cpath = Alloc(path, strings);
            byte** cargv = AllocArray(argv, strings);
            byte** cenv = AllocArray(env, strings);

            // posix_spawn_file_actions_t is 80 bytes in glibc; allocate generously.
            byte* actions = stackalloc byte[256];
            new Span<byte>(actions, 256).Clear();
            Io.Check(Libc.PosixSpawnFileActionsInit(actions) == 0 ? 0 : -1, "posix_spawn_file_actions_init");
            try
            {
                foreach (var (from, to) in dup2)
                {
                    int r = Libc.PosixSpawnFileActionsAddDup2(actions, from, to);
                    if (r != 0)
                    {
                        throw new ErrnoException("posix_spawn_file_actions_adddup2", (Errno)r);
                    }
                }

                int rc = Libc.PosixSpawn(out int pid, cpath, actions, null, cargv, cenv);
                if (rc != 0)
                {
                    throw new ErrnoException("posix_spawn " + path, (Errno)rc);
                }

                return pid;
            }
            finally
            {
                _ = Libc.PosixSpawnFileActionsDestroy(actions);
            }
        }
        finally
        {
            foreach (var p in strings)
            {
                Marshal.FreeHGlobal(p);
            }
        }
    }

    private static byte* Alloc(string s, List<nint> owned)
    {
        int n = Encoding.UTF8.GetByteCount(s);
        var p = (byte*)Marshal.AllocHGlobal(n + 1);
        owned.Add((nint)p);
        Encoding.UTF8.GetBytes(s, new Span<byte>(p, n));
        p[n] = 0;
        return p;
    }

    private static byte** AllocArray(IReadOnlyList<string> items, List<nint> owned)
    {
        var arr = (byte**)Marshal.AllocHGlobal(sizeof(nint) * (items.Count + 1));
        owned.Add((nint)arr);
        for (int i = 0; i < items.Count; i++)
        {
            arr[i] = Alloc(items[i], owned);
        }

        arr[items.Count] = null;
        return arr;
    }
}
