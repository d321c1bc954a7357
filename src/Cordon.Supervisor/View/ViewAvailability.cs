using Cordon.Interop;
using Cordon.Supervisor.Lsm;

namespace Cordon.Supervisor.View;

/// <summary>
/// Whether the view engine can run here (docs/view.md, "Fallback, doctor"), from files only: user namespaces for an
/// unprivileged user, a /dev/fuse the user may open, a kernel with the new mount API. What only the kernel can tell
/// (a proc mount refused inside a container, say) shows when the view is built, and then cordon falls back.
/// </summary>
public static class ViewAvailability
{
    public static List<LsmAvailability.Check> Cheap()
    {
        bool root = Libc.GetEUid() == 0;
        var checks = new List<LsmAvailability.Check> { Kernel(), UserNamespaces(root), FuseDevice() };
        return checks;
    }

    /// <summary>The first reason the view cannot run here, or null.</summary>
    public static string? Unavailable() => Cheap().FirstOrDefault(c => !c.Ok)?.Text;

    private static LsmAvailability.Check Kernel()
    {
        // mount_setattr and detached trees from fsmount/open_tree in a user namespace: Linux 5.12.
        var release = (ProcFs.ReadText("/proc/sys/kernel/osrelease") ?? "").Trim();
        var parts = release.Split('.', '-');
        bool ok = parts.Length >= 2 && int.TryParse(parts[0], out int major) && int.TryParse(parts[1], out int minor)
            && (major > 5 || (major == 5 && minor >= 12));
        return ok ? new("kernel", true, "Linux " + release)
            : new("kernel", false, $"Linux {release} is older than 5.12 (the view needs mount_setattr)");
    }

    private static LsmAvailability.Check UserNamespaces(bool root)
    {
        const string what = "user namespaces";
        if (ProcFs.ReadText("/proc/sys/user/max_user_namespaces")?.Trim() == "0")
        {
            return new(what, false, "user namespaces are switched off (user.max_user_namespaces = 0)");
        }

        if (!root && ProcFs.ReadText("/proc/sys/kernel/unprivileged_userns_clone")?.Trim() == "0")
        {
            return new(what, false, "unprivileged user namespaces are switched off (kernel.unprivileged_userns_clone = 0)");
        }

        if (!root && ProcFs.ReadText("/proc/sys/kernel/apparmor_restrict_unprivileged_userns")?.Trim() == "1")
        {
            return new(what, false, "AppArmor restricts unprivileged user namespaces (kernel.apparmor_restrict_unprivileged_userns = 1)");
        }

        return new(what, true, root ? "available (root)" : "available to unprivileged users");
    }

    private static LsmAvailability.Check FuseDevice()
    {
        int fd = Libc.OpenAt(Interop.Kernel.AT_FDCWD, "/dev/fuse", Interop.Kernel.O_RDWR | Interop.Kernel.O_CLOEXEC, 0);
        if (fd >= 0)
        {
            _ = Libc.Close(fd);
            return new("/dev/fuse", true, "usable");
        }

        var e = Io.LastErrno;
        return new("/dev/fuse", false, e == Errno.ENOENT
            ? "there is no /dev/fuse (modprobe fuse)"
            : $"/dev/fuse cannot be opened by this user ({ErrnoException.Describe(e)}; the fuse3 package's rule makes it usable by everyone: chmod 0666 /dev/fuse)");
    }
}
