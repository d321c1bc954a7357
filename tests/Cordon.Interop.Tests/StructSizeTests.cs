using System.Runtime.CompilerServices;
using Cordon.Interop;
using Xunit;

namespace Cordon.Interop.Tests;

public class StructSizeTests
{
    // Sizes from the kernel's UAPI headers on x86_64; a wrong size corrupts every ioctl that uses the struct.
    [Fact]
    public void Seccomp_structs_match_the_kernel_abi()
    {
        Assert.Equal(64, Unsafe.SizeOf<SeccompData>());
        Assert.Equal(80, Unsafe.SizeOf<SeccompNotif>());
        Assert.Equal(24, Unsafe.SizeOf<SeccompNotifResp>());
        Assert.Equal(24, Unsafe.SizeOf<SeccompNotifAddfd>());
    }

    [Fact]
    public void File_and_socket_structs_match_the_kernel_abi()
    {
        Assert.Equal(144, Unsafe.SizeOf<Stat>());
        Assert.Equal(256, Unsafe.SizeOf<Statx>());
        Assert.Equal(48, Unsafe.SizeOf<Passwd>());
        Assert.Equal(24, Unsafe.SizeOf<OpenHow>());
        Assert.Equal(56, Unsafe.SizeOf<MsgHdr>());
        Assert.Equal(16, Unsafe.SizeOf<IoVec>());
        Assert.Equal(16, Unsafe.SizeOf<Timespec>());
        Assert.Equal(8, Unsafe.SizeOf<PollFd>());
        Assert.Equal(120, Unsafe.SizeOf<StatFs>());
    }

    [Fact]
    public void Fuse_structs_match_the_kernel_abi()
    {
        // include/uapi/linux/fuse.h
        Assert.Equal(40, Unsafe.SizeOf<FuseInHeader>());
        Assert.Equal(16, Unsafe.SizeOf<FuseOutHeader>());
        Assert.Equal(16, Unsafe.SizeOf<FuseInitIn>());
        Assert.Equal(64, Unsafe.SizeOf<FuseInitOut>());
        Assert.Equal(88, Unsafe.SizeOf<FuseAttr>());
        Assert.Equal(128, Unsafe.SizeOf<FuseEntryOut>());
        Assert.Equal(104, Unsafe.SizeOf<FuseAttrOut>());
        Assert.Equal(16, Unsafe.SizeOf<FuseOpenOut>());
        Assert.Equal(16, Unsafe.SizeOf<FuseNotifyInvalEntryOut>());
        Assert.Equal(24, Unsafe.SizeOf<FuseNotifyInvalInodeOut>());
        Assert.Equal(40, Unsafe.SizeOf<FuseReadIn>());
        Assert.Equal(8, Unsafe.SizeOf<FuseGetXattr>());
        Assert.Equal(8, Unsafe.SizeOf<FuseOpenIn>());
        Assert.Equal(8, Unsafe.SizeOf<FuseForgetIn>());
        Assert.Equal(16, Unsafe.SizeOf<FuseForgetOne>());
        Assert.Equal(8, Unsafe.SizeOf<FuseBatchForgetIn>());
        Assert.Equal(16, Unsafe.SizeOf<FuseGetAttrIn>());
        Assert.Equal(24, Unsafe.SizeOf<FuseReleaseIn>());
        Assert.Equal(8, Unsafe.SizeOf<FuseAccessIn>());
        Assert.Equal(8, Unsafe.SizeOf<FuseInterruptIn>());
        Assert.Equal(80, Unsafe.SizeOf<FuseKstatfs>());
        Assert.Equal(80, Unsafe.SizeOf<FuseStatfsOut>());
        Assert.Equal(Fuse.DirentNameOffset, Unsafe.SizeOf<FuseDirent>());
        Assert.Equal(32, Fuse.DirentSize(1));
        Assert.Equal(32, Fuse.DirentSize(8));
        Assert.Equal(40, Fuse.DirentSize(9));
    }

    [Fact]
    public void Lsm_map_structs_match_the_bpf_programs()
    {
        // native/lsm/cordon.bpf.c: struct cordon_run, cordon_state, cordon_request, cordon_key, cordon_folder
        Assert.Equal(8, Unsafe.SizeOf<LsmRun>());
        Assert.Equal(16, Unsafe.SizeOf<LsmState>());
        Assert.Equal(424 + 4096, Unsafe.SizeOf<LsmRequest>());
        Assert.Equal(32, Unsafe.SizeOf<LsmVerdictKey>());
        Assert.Equal(32, Unsafe.SizeOf<LsmFolderKey>());
    }

    [Fact]
    public void Terminal_structs_match_glibc()
    {
        Assert.Equal(60, Unsafe.SizeOf<Termios>());
        Assert.Equal(8, Unsafe.SizeOf<WinSize>());
    }

    [Fact]
    public void A_pseudo_terminal_opens_and_carries_a_window_size()
    {
        var (master, slave) = Tty.OpenPseudoTerminal();
        using (master)
        {
            Assert.StartsWith("/dev/pts/", slave, StringComparison.Ordinal);
            Tty.SetSize(master.Fd, new WinSize { Rows = 33, Cols = 99 });
            var size = Tty.GetSize(master.Fd);
            Assert.NotNull(size);
            Assert.Equal(33, size.Value.Rows);
            Assert.Equal(99, size.Value.Cols);
            Assert.Equal(0, Tty.GetAttr(master.Fd, out var t));
            Assert.NotEqual(0u, t.LFlag);
        }
    }

    [Theory]
    // _IOWR('!', 0, struct seccomp_notif) and friends, computed from _IOC(dir, type, nr, size).
    [InlineData(3, 0, 80, Kernel.SECCOMP_IOCTL_NOTIF_RECV)]
    [InlineData(3, 1, 24, Kernel.SECCOMP_IOCTL_NOTIF_SEND)]
    [InlineData(1, 2, 8, Kernel.SECCOMP_IOCTL_NOTIF_ID_VALID)]
    [InlineData(1, 3, 24, Kernel.SECCOMP_IOCTL_NOTIF_ADDFD)]
    [InlineData(1, 4, 8, Kernel.SECCOMP_IOCTL_NOTIF_SET_FLAGS)]
    public void Ioctl_numbers_follow_the_ioc_encoding(ulong dir, ulong nr, ulong size, ulong expected)
    {
        ulong encoded = (dir << 30) | (size << 16) | ((ulong)'!' << 8) | nr;
        Assert.Equal(expected, encoded);
    }

    [Fact]
    public void Stat_fields_sit_where_the_kernel_writes_them()
    {
        Assert.Equal(0, (int)Offset(nameof(Stat.Dev)));
        Assert.Equal(8, (int)Offset(nameof(Stat.Ino)));
        Assert.Equal(24, (int)Offset(nameof(Stat.Mode)));
        Assert.Equal(48, (int)Offset(nameof(Stat.Size)));
    }

    [Fact]
    public void Reading_a_file_descriptor_of_this_process_works_through_fstat()
    {
        using var fd = SafeFd.FromResult(Libc.OpenAt(Kernel.AT_FDCWD, "/proc/self/status", Kernel.O_RDONLY | Kernel.O_CLOEXEC, 0), "open");
        Assert.Equal(0, Libc.FStat(fd.Fd, out var st));
        Assert.Equal(Kernel.S_IFREG, st.Type);
    }

    [Fact]
    public void Reading_own_memory_with_process_vm_readv_returns_the_string()
    {
        var text = "hello\0"u8.ToArray();
        unsafe
        {
            fixed (byte* p = text)
            {
                var buf = new byte[64];
                int n = ProcessMemory.ReadCString(Libc.GetPid(), (ulong)p, buf);
                Assert.Equal(5, n);
                Assert.Equal("hello"u8.ToArray(), buf[..5]);
            }
        }
    }

    [Fact]
    public void A_string_without_terminator_within_the_limit_is_too_long()
    {
        var text = new byte[100];
        Array.Fill(text, (byte)'a');
        unsafe
        {
            fixed (byte* p = text)
            {
                Assert.Equal(-(int)Errno.ENAMETOOLONG, ProcessMemory.ReadCString(Libc.GetPid(), (ulong)p, new byte[50]));
            }
        }
    }

    private static nint Offset(string field) => System.Runtime.InteropServices.Marshal.OffsetOf<Stat>(field);
}
