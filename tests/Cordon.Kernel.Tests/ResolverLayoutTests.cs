using Xunit;

namespace Cordon.Kernel.Tests;

/// <summary>
/// Ubuntu's and Fedora's layout (systemd-resolved): /etc/resolv.conf is a link to /run/systemd/resolve/stub-resolv.conf,
/// and reads are decided on the canonical path. The test builds that layout in a private mount namespace (a tmpfs
/// over /etc holding the real entries bound back, and the link; a tmpfs over /run/systemd holding the file) and looks
/// a name up with --no-prompt: the lookup must read the file without a question and reach the system's DNS server
/// (denied: no rule allows it), not fall back to 127.0.0.1 as glibc does when resolv.conf cannot be read.
/// </summary>
public sealed class ResolverLayoutTests : IDisposable
{
    private readonly Sandboxed s = new();

    public void Dispose() => s.Dispose();

    private static bool Root => Interop.Libc.GetEUid() == 0;

    [Fact]
    public void A_resolv_conf_linked_into_run_is_read_without_a_question()
    {
        Assert.True(File.Exists("/etc/resolv.conf") && Directory.Exists("/run/systemd"), "this test needs /etc/resolv.conf and /run/systemd");
        string saved = Path.Combine(s.Root, "etc-real");
        Directory.CreateDirectory(saved);
        string[] unshare = Root ? ["unshare", "--mount", "--propagation", "private"] : ["unshare", "--user", "--map-current-user", "--keep-caps", "--mount", "--propagation", "private"];
        const string layout = """
            import ctypes, os, sys
            libc = ctypes.CDLL(None, use_errno=True)
            def mount(src, dst, fstype=None, flags=0):
                if libc.mount(src.encode(), dst.encode(), fstype.encode() if fstype else None, flags, None) != 0:
                    sys.exit('mount ' + dst + ': ' + os.strerror(ctypes.get_errno()))
            BIND, REC = 4096, 16384
            saved = sys.argv[1]
            content = open('/etc/resolv.conf').read()
            mount('/etc', saved, None, BIND | REC)
            mount('tmpfs', '/etc', 'tmpfs')
            for name in os.listdir(saved):
                real, there = os.path.join(saved, name), os.path.join('/etc', name)
                if name == 'resolv.conf':
                    os.symlink('../run/systemd/resolve/stub-resolv.conf', there)
                elif os.path.islink(real):
                    os.symlink(os.readlink(real), there)
                elif os.path.isdir(real):
                    os.mkdir(there)
                    mount(real, there, None, BIND | REC)
                elif os.path.isfile(real):
                    open(there, 'w').close()
                    mount(real, there, None, BIND)
            mount('tmpfs', '/run/systemd', 'tmpfs')
            os.makedirs('/run/systemd/resolve')
            with open('/run/systemd/resolve/stub-resolv.conf', 'w') as f:
                f.write(content)
            os.chmod('/run/systemd/resolve/stub-resolv.conf', 0o644)
            os.chmod('/etc', 0o755)
            os.execvp(sys.argv[2], sys.argv[2:])
            """;
        var r = s.Cordon([.. unshare, "python3", "-c", layout, saved], ["run", "--no-prompt", "--", "sh", "-c", "readlink /etc/resolv.conf; getent ahosts cordon-lookup.example; true"], null);
        Assert.Contains("../run/systemd/resolve/stub-resolv.conf", r.Stdout, StringComparison.Ordinal); // the layout was in place
        Assert.DoesNotContain("stub-resolv.conf", r.Stderr, StringComparison.Ordinal); // read as a system file
        Assert.DoesNotContain("127.0.0.1:53", r.Stderr, StringComparison.Ordinal); // glibc read it: no fallback
        Assert.Contains("the system's DNS server (", r.Stderr, StringComparison.Ordinal); // and asked the server it names
    }
}
