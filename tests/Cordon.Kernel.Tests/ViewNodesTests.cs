using Cordon.Interop;
using K = Cordon.Interop.Kernel;
using Cordon.Supervisor.View;
using Xunit;

namespace Cordon.Kernel.Tests;

/// <summary>The view's node table, without a kernel: ids per path, lookups and FORGET, pins.</summary>
public sealed class ViewNodesTests
{
    private static readonly HostIdentity File1 = new(1, 100, K.S_IFREG);
    private static readonly HostIdentity File2 = new(1, 200, K.S_IFREG);
    private static readonly HostIdentity Dir1 = new(1, 300, K.S_IFDIR);

    [Fact]
    public void A_path_keeps_its_node_while_the_kernel_holds_it_and_loses_it_when_forgotten()
    {
        var nodes = new ViewNodes();
        var a = nodes.Remember("a", File1);
        Assert.Same(a, nodes.Remember("a", File1));
        Assert.Equal(2ul, a.Lookups);
        nodes.Forget(a.Id, 1);
        Assert.Same(a, nodes.Get(a.Id));
        nodes.Forget(a.Id, 1);
        Assert.Null(nodes.Get(a.Id));
        Assert.Equal(1, nodes.Count); // the root alone

        // A later lookup is a new node: ids are never reused.
        var again = nodes.Remember("a", File1);
        Assert.NotEqual(a.Id, again.Id);
        Assert.True(again.Id > Fuse.RootId);
    }

    [Fact]
    public void Another_inode_at_the_same_path_is_a_new_node_and_the_old_one_is_forgotten_on_its_own()
    {
        var nodes = new ViewNodes();
        var old = nodes.Remember("a", File1);
        var replaced = nodes.Remember("a", File2);
        Assert.NotEqual(old.Id, replaced.Id);
        nodes.Forget(old.Id, 1);
        Assert.Null(nodes.Get(old.Id));
        Assert.Same(replaced, nodes.Remember("a", File2)); // forgetting the old node left the path's new node alone
    }

    [Fact]
    public void Pinned_paths_and_their_ancestors_keep_their_node_through_forget_and_host_changes()
    {
        var nodes = new ViewNodes();
        var home = nodes.Remember("home", Dir1);
        nodes.Pin("home/me/project");
        var me = nodes.Remember("home/me", Dir1);
        var project = nodes.Remember("home/me/project", Dir1);
        var other = nodes.Remember("home/other", Dir1);
        Assert.True(home.Pinned && me.Pinned && project.Pinned);
        Assert.False(other.Pinned);
        Assert.True(nodes.Get(Fuse.RootId)!.Pinned);

        nodes.Forget(project.Id, 1);
        Assert.Same(project, nodes.Get(project.Id));
        Assert.Same(project, nodes.Remember("home/me/project", new HostIdentity(1, 999, K.S_IFDIR)));
        nodes.Forget(other.Id, 1);
        Assert.Null(nodes.Get(other.Id));
    }

    [Fact]
    public void The_root_is_never_forgotten()
    {
        var nodes = new ViewNodes();
        nodes.Forget(Fuse.RootId, 1000);
        Assert.NotNull(nodes.Get(Fuse.RootId));
    }

    [Fact]
    public void Write_intent_and_denials_are_classified_fail_closed()
    {
        Assert.False(ViewFileSystem.WriteIntent((uint)(K.O_RDONLY | K.O_NONBLOCK | K.O_CLOEXEC | 0x8000 /* O_LARGEFILE */)));
        Assert.False(ViewFileSystem.WriteIntent(Fuse.FmodeExec));
        Assert.True(ViewFileSystem.WriteIntent((uint)K.O_WRONLY));
        Assert.True(ViewFileSystem.WriteIntent((uint)K.O_RDWR));
        Assert.True(ViewFileSystem.WriteIntent(3));
        Assert.True(ViewFileSystem.WriteIntent((uint)K.O_TRUNC));
        Assert.True(ViewFileSystem.WriteIntent((uint)K.O_CREAT));
        Assert.True(ViewFileSystem.WriteIntent((uint)K.O_TMPFILE));
        Assert.Equal(Errno.EACCES, ViewFileSystem.Denial(Errno.ENOSYS));
        Assert.Equal(Errno.EACCES, ViewFileSystem.Denial((Errno)(-5)));
        Assert.Equal(Errno.EACCES, ViewFileSystem.Denial((Errno)5000));
        Assert.Equal(Errno.EPERM, ViewFileSystem.Denial(Errno.EPERM));
    }

    [Theory]
    [InlineData("0000000000000000", "0000000000000000", "0000000000000000", "0000000000010000", false)] // nothing pending
    [InlineData("0000000000000100", "0000000000000000", "0000000000000000", "0000000000000000", true)]  // SIGKILL
    [InlineData("0000000000000000", "0000000000010000", "0000000000000000", "0000000000010000", false)] // SIGCHLD, handled
    [InlineData("0000000000000000", "0000000000010000", "0000000000000000", "0000000000000000", false)] // SIGCHLD, default
    [InlineData("0000000000000000", "0000000000000200", "0000000000000000", "0000000000000200", false)] // SIGUSR1, handled
    [InlineData("0000000000000000", "0000000000000004", "0000000000000000", "0000000000000000", true)]  // SIGQUIT, unhandled
    [InlineData("0000000000000000", "0000000000000004", "0000000000000004", "0000000000000000", false)] // SIGQUIT, blocked
    public void A_thread_is_dying_only_with_a_signal_that_ends_it(string own, string shared, string blocked, string caught, bool dying)
    {
        string status = $"Name:\tcat\nState:\tS (sleeping)\nSigQ:\t0/1\nSigPnd:\t{own}\nShdPnd:\t{shared}\nSigBlk:\t{blocked}\nSigIgn:\t0000000000000000\nSigCgt:\t{caught}\n";
        Assert.Equal(dying, ThreadSignals.Dying(status));
        Assert.True(ThreadSignals.Dying("Name:\tcat\n")); // unreadable: give the wait up
    }
}
