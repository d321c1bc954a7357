using Cordon.Interop;
using Xunit;

namespace Cordon.Interop.Tests;

/// <summary>The span overloads of the path calls: the NUL the caller supplies ends the path, and results come back.</summary>
public sealed class PathCallTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("cordon-pathcalls-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private static byte[] Z(string path) => System.Text.Encoding.UTF8.GetBytes(path + "\0");

    [Fact]
    public void Openat2_resolves_with_the_flags_given_and_readlinkat_reads_the_link()
    {
        File.WriteAllText(Path.Combine(dir, "file"), "x");
        File.CreateSymbolicLink(Path.Combine(dir, "link"), "file");

        int fd = Libc.OpenAt2(Kernel.AT_FDCWD, Z(Path.Combine(dir, "link")), new OpenHow { Flags = (ulong)(Kernel.O_PATH | Kernel.O_CLOEXEC) });
        Assert.True(fd >= 0, Io.LastErrno.ToString());
        using (var h = new SafeFd(fd))
        {
            var buf = new byte[4096];
            nint n = Libc.ReadLinkAt(Kernel.AT_FDCWD, Z("/proc/self/fd/" + fd), buf, buf.Length);
            Assert.Equal(Path.Combine(dir, "file"), System.Text.Encoding.UTF8.GetString(buf, 0, (int)n));
        }

        var how = new OpenHow { Flags = (ulong)(Kernel.O_PATH | Kernel.O_CLOEXEC), Resolve = Kernel.RESOLVE_NO_SYMLINKS };
        Assert.Equal(-1, Libc.OpenAt2(Kernel.AT_FDCWD, Z(Path.Combine(dir, "link")), how));
        Assert.Equal(Errno.ELOOP, Io.LastErrno);
    }

    [Fact]
    public void Utimensat_with_no_times_sets_now_and_an_empty_path_reaches_the_descriptor()
    {
        var file = Path.Combine(dir, "file");
        File.WriteAllText(file, "x");
        File.SetLastWriteTimeUtc(file, new DateTime(2001, 1, 1, 0, 0, 0, DateTimeKind.Utc));
        Assert.Equal(0, Libc.UtimensAt(Kernel.AT_FDCWD, Z(file), null, 0));
        Assert.True(File.GetLastWriteTimeUtc(file) > DateTime.UtcNow.AddMinutes(-5));

        int fd = Libc.OpenAt(Kernel.AT_FDCWD, Z(file), Kernel.O_PATH | Kernel.O_CLOEXEC, 0);
        using var h = new SafeFd(fd);
        Assert.Equal(0, Libc.FChownAt(fd, "\0"u8, uint.MaxValue, uint.MaxValue, Kernel.AT_EMPTY_PATH));
        Assert.Equal(0, Libc.FStatAt(fd, "\0"u8, out var st, Kernel.AT_EMPTY_PATH));
        Assert.Equal(Kernel.S_IFREG, st.Type);
    }
}
