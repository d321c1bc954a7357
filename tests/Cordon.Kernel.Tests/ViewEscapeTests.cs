using System.Globalization;
using Xunit;

namespace Cordon.Kernel.Tests;

/// <summary>
/// Attacks on the view engine's file system (docs/view.md): the program's tree is cordon's view, where the work
/// directory is a bind mount of the host's and everything else is cordon's FUSE mirror, which decides each open.
/// Every test runs with `--engine view` whatever CORDON_ENGINE says, asserts that the attack failed and that the
/// secret (in the fake home, which no rule grants) never appears. The whole escape suite also runs under the view
/// (run-tests: CORDON_ENGINE=view); these are the attacks only the view has.
/// </summary>
[Collection(Heavy.Name)]
public sealed class ViewEscapeTests : IDisposable
{
    private readonly Sandboxed s = new();

    public void Dispose() => s.Dispose();

    private RunResult View(params string[] command) => ViewWith([], command);

    private RunResult ViewWith(string[] flags, string[] command)
    {
        var r = s.Cordon(["run", "--engine", "view", "--no-prompt", "--allow-read=" + s.Work, "--allow-write=" + s.Work, .. flags, "--", .. command]);
        s.AssertNoSecret(r);
        Assert.DoesNotContain("cannot run here", r.Stderr, StringComparison.Ordinal);
        return r;
    }

    private string RelativeSecret => Path.GetRelativePath(s.Work, s.Secret);

    [Fact]
    public void Dot_dot_above_a_bind_reaches_the_mirror_which_denies()
    {
        var r = View("/bin/sh", "-c", $"cat {RelativeSecret}; cat {s.Work}/../home/.ssh/id_rsa; echo done");
        Assert.Contains("done", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("Permission denied", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void A_symlink_in_an_allowed_folder_to_a_hidden_file_is_decided_where_it_leads()
    {
        File.CreateSymbolicLink(Path.Combine(s.Work, "link"), s.Secret);
        var r = View("/bin/sh", "-c", "cat link; head -c 100 < link; echo done");
        Assert.Contains("done", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("Permission denied", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void The_pid_namespace_shows_no_process_outside_and_the_reapers_root_is_closed()
    {
        int me = Environment.ProcessId;
        var r = View("/bin/sh", "-c",
            $"ls /proc | grep -c '^[0-9]'; cat /proc/1/root{s.Secret}; cat /proc/{me}/root{s.Secret}; ls /proc/{me} >/dev/null 2>&1 && echo SEEN-{me}; echo done");
        Assert.Contains("done", r.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("SEEN-", r.Stdout, StringComparison.Ordinal);
        // sh, ls, grep and the reaper: a handful, not the machine's hundreds.
        int count = int.Parse(r.Stdout.Split('\n')[0].Trim(), CultureInfo.InvariantCulture);
        Assert.InRange(count, 1, 8);
    }

    [Fact]
    public void A_hidden_file_cannot_be_hard_linked_or_renamed_into_an_allowed_folder()
    {
        var r = View("/bin/sh", "-c", $"ln {s.Secret} x; cat x; mv {s.Secret} y; cat y; cp {s.Secret} z; cat z; echo done");
        Assert.Contains("done", r.Stdout, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(s.Work, "x")) && new FileInfo(Path.Combine(s.Work, "x")).Length > 0);
        Assert.True(File.Exists(s.Secret));
    }

    [Fact]
    public void Reopening_an_o_path_descriptor_of_a_hidden_file_is_decided()
    {
        var r = View("/usr/bin/python3", "-c",
            "import os\n" +
            $"fd = os.open('{s.Secret}', os.O_PATH)\n" +
            "try:\n" +
            "    g = os.open('/proc/self/fd/%d' % fd, os.O_RDONLY)\n" +
            "    print(os.read(g, 4096))\n" +
            "except PermissionError:\n" +
            "    print('stopped: reopen denied')\n");
        Assert.Contains("stopped: reopen denied", r.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Mounts_cannot_be_undone_or_added_from_inside()
    {
        var r = View("/bin/sh", "-c",
            $"umount -l {s.Work} && echo UNMOUNTED; umount -l /proc && echo UNMOUNTED; mount -t tmpfs x {s.Work} && echo MOUNTED; " +
            $"unshare -rm sh -c 'umount -l {s.Work}' && echo UNSHARED; cat {s.Secret}; echo done");
        Assert.Contains("done", r.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("UNMOUNTED", r.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("MOUNTED", r.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("UNSHARED", r.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void A_flood_of_64_threads_opening_undecided_files_gets_64_answers()
    {
        var other = Path.Combine(s.Root, "other");
        Directory.CreateDirectory(other);
        for (int i = 0; i < 64; i++)
        {
            File.WriteAllText(Path.Combine(other, $"f{i}"), s.Marker);
        }

        var r = View("/usr/bin/python3", "-c",
            "import threading, os\n" +
            "res = []\n" +
            "def go(i):\n" +
            "    try:\n" +
            $"        res.append(open('{other}/f%d' % i).read())\n" +
            "    except PermissionError:\n" +
            "        res.append('denied')\n" +
            "ts = [threading.Thread(target=go, args=(i,)) for i in range(64)]\n" +
            "[t.start() for t in ts]\n" +
            "[t.join() for t in ts]\n" +
            "print('answers', len(res), 'denied', res.count('denied'))\n");
        Assert.Contains("answers 64 denied 64", r.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void A_listing_of_a_hidden_folder_is_decided_but_a_stat_is_not()
    {
        var r = View("/bin/sh", "-c", $"ls {Path.GetDirectoryName(s.Secret)} && echo LISTED; stat -c %s {s.Secret}; echo done");
        Assert.Contains("done", r.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("LISTED", r.Stdout, StringComparison.Ordinal);
        Assert.Contains(new FileInfo(s.Secret).Length.ToString(CultureInfo.InvariantCulture), r.Stdout, StringComparison.Ordinal);
    }
}
