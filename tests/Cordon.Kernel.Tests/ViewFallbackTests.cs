using Xunit;

namespace Cordon.Kernel.Tests;

/// <summary>
/// Where the view cannot be built, `--engine auto` says in one line why and runs the seccomp engine, which still
/// sandboxes; `--engine view` fails with 125 and that line. /dev/fuse is taken away in a private mount namespace
/// (unshare; for a user who is not root, in a user namespace that maps only that user): once as a file nobody may
/// open (cordon's own check finds it), once as /dev/null, which opens but is no FUSE device, so that the kernel
/// refuses a step of building the view and the launcher's report comes back.
/// </summary>
public sealed class ViewFallbackTests : IDisposable
{
    private readonly Sandboxed s = new();

    public void Dispose() => s.Dispose();

    private static bool Root => Interop.Libc.GetEUid() == 0;

    private RunResult WithoutFuse(string replacement, params string[] args)
    {
        // mount(8) wants a real root, so the bind is made with mount(2) from python, which then runs the cordon
        // command and ARGS that Sandboxed.Cordon appends to the wrapper (its sys.argv[1:]).
        string[] unshare = Root ? ["unshare", "--mount", "--propagation", "private"] : ["unshare", "--user", "--map-current-user", "--keep-caps", "--mount", "--propagation", "private"];
        const string bind = """
            import ctypes, os, sys
            libc = ctypes.CDLL(None, use_errno=True)
            if libc.mount(sys.argv[1].encode(), b'/dev/fuse', None, 4096, None) != 0:  # MS_BIND
                sys.exit('mount: ' + os.strerror(ctypes.get_errno()))
            os.execvp(sys.argv[2], sys.argv[2:])
            """;
        return s.Cordon([.. unshare, "python3", "-c", bind, replacement], args, null);
    }

    private string Unopenable()
    {
        var path = Path.Combine(s.Root, "no-fuse");
        File.WriteAllText(path, "");
        File.SetUnixFileMode(path, UnixFileMode.None);
        return path;
    }

    [Fact]
    public void Auto_without_a_usable_fuse_device_says_why_in_one_line_and_still_sandboxes()
    {
        if (Root)
        {
            // Root's auto is the LSM engine, then the seccomp engine (EngineFallbackTests): the view is never
            // tried, so nothing is said about it even without /dev/fuse.
            var root = WithoutFuse(Unopenable(), "run", "--engine", "auto", "--no-prompt", "--", "cat", s.Secret);
            s.AssertNoSecret(root);
            Assert.DoesNotContain("view engine", root.Stderr, StringComparison.Ordinal);
            Assert.Contains("denied read of " + s.Secret, root.Stderr, StringComparison.Ordinal);
            return;
        }

        foreach (var replacement in new[] { Unopenable(), "/dev/null" })
        {
            var r = WithoutFuse(replacement, "run", "--engine", "auto", "--no-prompt", "--", "cat", s.Secret);
            s.AssertNoSecret(r);
            Assert.NotEqual(0, r.ExitCode);
            var lines = r.Stderr.Trim().Split('\n');
            var why = Assert.Single(lines, l => l.Contains("view engine", StringComparison.Ordinal));
            Assert.StartsWith("cordon: the view engine cannot run here: ", why, StringComparison.Ordinal);
            Assert.Contains("using the seccomp engine", why, StringComparison.Ordinal);
            Assert.Contains(lines, l => l.Contains("denied read of " + s.Secret, StringComparison.Ordinal));
            var ok = WithoutFuse(replacement, "run", "--engine", "auto", "--no-prompt", "--", "true");
            Assert.True(ok.ExitCode == 0, ok.ToString());
        }
    }

    [Fact]
    public void An_explicit_view_that_cannot_be_built_exits_125_with_one_line_and_runs_nothing()
    {
        var marker = Path.Combine(s.Work, "ran");
        foreach (var replacement in Root ? new[] { "/dev/null" } : new[] { Unopenable(), "/dev/null" })
        {
            var r = WithoutFuse(replacement, "run", "--engine", "view", "--allow-write=" + s.Work, "--", "touch", marker);
            Assert.Equal(125, r.ExitCode);
            var line = Assert.Single(r.Stderr.Trim().Split('\n'));
            Assert.StartsWith("cordon: the view engine cannot run here: ", line, StringComparison.Ordinal);
            Assert.False(File.Exists(marker));
        }
    }
}
