using Xunit;

namespace Cordon.Kernel.Tests;

/// <summary>
/// The view's mirror lets the kernel keep names, and folders' and links' attributes, for a second (docs/view.md).
/// A change the program makes through cordon must still show at once: cordon tells the kernel to forget what it
/// kept of the changed names before it answers the call. The folder here is writable but not readable, so the
/// mirror serves it (only readable trees are bound).
/// </summary>
public sealed class ViewCacheTests : IDisposable
{
    private readonly Sandboxed s = new();

    public void Dispose() => s.Dispose();

    [Fact]
    public void The_programs_own_changes_in_a_mirrored_folder_show_at_once()
    {
        var folder = Path.Combine(s.Root, "out");
        Directory.CreateDirectory(folder);
        // Each name is looked at before it changes (so the kernel holds it), then looked at again at once.
        var script = s.WorkFile("cache.sh", $$"""
            cd '{{folder}}' || exit 9
            grep -q ' {{folder}} ' /proc/self/mountinfo && echo BOUND
            mkdir d; test -d d && echo made; rmdir d; test -e d && echo STALE-rmdir || echo removed
            mkdir e; chmod 700 e; stat -c %a e; chmod 750 e; stat -c %a e
            mv e f; test -e e && echo STALE-rename || echo renamed; test -d f && echo arrived
            ln -s one l; readlink l; rm l; test -L l && echo STALE-unlink || echo unlinked; ln -s two l; readlink l
            touch -d '2001-02-03 04:05:06' f; stat -c %y f | cut -c1-19
            test -e n || echo missing; echo x > n; test -e n && echo created; test -e m || mkdir m; test -d m && echo made-m
            """);
        var r = s.Cordon("run", "--engine", "view", "--no-prompt", "--allow-read=" + s.Work, "--allow-write=" + folder, "--", "/bin/sh", script);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.DoesNotContain("BOUND", r.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("STALE", r.Stdout, StringComparison.Ordinal);
        Assert.Equal(
            "made\nremoved\n700\n750\nrenamed\narrived\none\nunlinked\ntwo\n2001-02-03 04:05:06\nmissing\ncreated\nmade-m\n",
            r.Stdout);
    }

    [Fact]
    public void A_file_the_program_writes_is_read_back_whole_through_the_mirror()
    {
        var folder = Path.Combine(s.Root, "out");
        Directory.CreateDirectory(folder);
        var file = Path.Combine(folder, "w");
        // The reads go through the mirror (the file may be read, but a file that may be written is never bound);
        // the writes through descriptors cordon opens on the host, behind the mirror's back.
        var script = s.WorkFile("written.sh", $$"""
            cd '{{folder}}' || exit 9
            printf 12345 > w; cat w; echo; stat -c %s w
            printf 6789 >> w; stat -c %s w; cat w; echo
            printf abc > w; stat -c %s w; cat w; echo
            """);
        var r = s.Cordon("run", "--engine", "view", "--no-prompt", "--allow-read=" + s.Work + "," + file, "--allow-write=" + folder, "--", "/bin/sh", script);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("12345\n5\n9\n123456789\n3\nabc\n", r.Stdout);
    }
}
