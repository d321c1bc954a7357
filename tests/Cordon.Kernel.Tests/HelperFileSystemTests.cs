using System.Diagnostics;
using Cordon.Supervisor.Lsm;
using Xunit;

namespace Cordon.Kernel.Tests;

/// <summary>
/// The LSM engine's FUSE server, on this machine's kernel (FUSE works here; BPF LSM does not, so the engine as a
/// whole is tested in the QEMU guest: tests/lsm). Mounting needs root; as an ordinary user the test
/// checks that the mount is refused instead of pretending.
/// </summary>
public sealed class HelperFileSystemTests
{
    private static bool Root => Interop.Libc.GetEUid() == 0;

    [Fact]
    public void Helper_on_the_file_system_runs_and_its_verdict_xattr_is_decided_per_thread()
    {
        string dir = Directory.CreateTempSubdirectory("cordon-fuse-").FullName;
        try
        {
            byte[] helper = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "cordon-lsm-helper"));
            var asked = new List<uint>();
            if (!Root)
            {
                // Opening /dev/fuse or mounting is refused to an ordinary user (which one depends on /dev/fuse's mode).
                var e = Assert.Throws<Interop.ErrnoException>(() => new HelperFileSystem(dir, helper, _ => Task.FromResult(true)));
                Assert.True(e.Errno is Interop.Errno.EPERM or Interop.Errno.EACCES, e.Message);
                return;
            }

            using var fs = new HelperFileSystem(dir, helper, tid =>
            {
                lock (asked)
                {
                    asked.Add(tid);
                }

                return Task.FromResult(tid % 2 == 0);
            });
            Assert.Equal(helper.Length, new FileInfo(fs.HelperPath).Length);
            Assert.Equal(helper, File.ReadAllBytes(fs.HelperPath));

            // The helper really executes from the FUSE mount (exec reads it through READ requests).
            using var p = Process.Start(fs.HelperPath)!;
            Thread.Sleep(300);
            Assert.False(p.HasExited);
            Assert.Equal(fs.HelperPath, new FileInfo($"/proc/{p.Id}/exe").LinkTarget);
            p.Kill();
            p.WaitForExit();

            // getxattr from this thread: the server asks with this thread's id and answers y or n.
            var value = new byte[8];
            int n = GetXattr(fs.HelperPath, HelperFileSystem.VerdictXattr, value);
            Assert.Equal(1, n);
            uint tid = (uint)Interop.Libc.Syscall(186 /* gettid */, 0, 0, 0);
            Assert.Equal(tid % 2 == 0 ? (byte)'y' : (byte)'n', value[0]);
            lock (asked)
            {
                Assert.Equal([tid], asked);
            }

            Assert.True(GetXattr(fs.HelperPath, "user.other", value) < 0);
        }
        finally
        {
            Directory.Delete(dir);
        }
    }

    private static unsafe int GetXattr(string path, string name, byte[] value)
    {
        fixed (byte* v = value)
        {
            return (int)NativeXattr.GetXattr(path, name, v, value.Length);
        }
    }
}

internal static unsafe partial class NativeXattr
{
    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "getxattr", StringMarshalling = System.Runtime.InteropServices.StringMarshalling.Utf8)]
    public static partial nint GetXattr(string path, string name, byte* value, nint size);
}
