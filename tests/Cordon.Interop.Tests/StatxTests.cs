using Cordon.Interop;
using Xunit;

namespace Cordon.Interop.Tests;

public class StatxTests
{
    [Fact]
    public unsafe void Statx_gives_the_inode_type_and_unique_mount_id_where_stat_agrees()
    {
        byte* root = stackalloc byte[] { (byte)'/', 0 };
        const uint mask = Statx.STATX_TYPE | Statx.STATX_INO | Statx.STATX_MNT_ID_UNIQUE;
        Assert.Equal(0, Libc.Statx(Kernel.AT_FDCWD, root, Kernel.AT_SYMLINK_NOFOLLOW, mask, out var stx));
        Assert.Equal(0, Libc.FStatAt(Kernel.AT_FDCWD, root, out var st, Kernel.AT_SYMLINK_NOFOLLOW));
        Assert.Equal(st.Ino, stx.Ino);
        Assert.Equal(Kernel.S_IFDIR, stx.Type);

        // The unique mount id (Linux 6.8) is what the LSM engine's folder grants are keyed by; unlike the old mount
        // id it is never handed out again.
        Assert.NotEqual(0u, stx.Mask & Statx.STATX_MNT_ID_UNIQUE);
        Assert.NotEqual(0ul, stx.MntId);
    }
}
