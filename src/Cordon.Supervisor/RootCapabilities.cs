namespace Cordon.Supervisor;

/// <summary>
/// The capabilities a program keeps when it runs as root under cordon (the launcher drops every other one from
/// all its sets, bounding set included, before the program starts; a program that is not root holds none).
/// A root program inside the sandbox still owns the machine through the capabilities no hook or filter rule here
/// covers: CAP_NET_ADMIN changes addresses, routes and links; CAP_SYS_ADMIN gives fanotify, TIOCCONS and hundreds
/// of device ioctls; CAP_MKNOD and CAP_SETFCAP leave devices and privileged files behind; CAP_SYS_MODULE,
/// CAP_SYS_RAWIO, CAP_SYS_PTRACE, CAP_DAC_READ_SEARCH, CAP_BPF, CAP_PERFMON, CAP_SYS_RESOURCE and CAP_SYS_NICE reach
/// past the sandbox. What stays is what ordinary root work inside a project needs (the file-ownership and
/// permission overrides, switching users as package managers do, binding low ports, ping): close to the set
/// container runtimes give by default, without CAP_MKNOD, CAP_SETFCAP, CAP_SETPCAP and CAP_SYS_CHROOT.
/// Numbers: include/uapi/linux/capability.h.
/// </summary>
public static class RootCapabilities
{
    public const int Chown = 0;
    public const int DacOverride = 1;
    public const int Fowner = 3;
    public const int Fsetid = 4;
    public const int Kill = 5;
    public const int Setgid = 6;
    public const int Setuid = 7;
    public const int NetBindService = 10;
    public const int NetRaw = 13;
    public const int AuditWrite = 29;

    /// <summary>The kept capabilities as a mask (bit N: capability N), as the launcher's --keep-caps takes it.</summary>
    public static ulong Kept { get; } = Mask(Chown, DacOverride, Fowner, Fsetid, Kill, Setgid, Setuid, NetBindService, NetRaw, AuditWrite);

    private static ulong Mask(params int[] caps) => caps.Aggregate(0UL, (m, c) => m | (1UL << c));
}
