namespace Cordon.Policy;

/// <summary>
/// Who the base rules stand for when cordon runs as root: they grant the system files a person could read without
/// cordon, and no more. Under sudo that is SUDO_UID with its groups; as plain root it is nobody in particular, so
/// what "others" may read. A file only root (or a service's group) may read, such as a 0640 root:postgres
/// pg_hba.conf, then needs a rule that names it. The engine fstat()s what it opened and asks <see cref="CanRead"/>;
/// the policy core only sees the answer (<see cref="Request.UnreadableByUser"/>).
/// </summary>
public sealed class InvokingUser
{
    private readonly uint? uid;
    private readonly HashSet<uint> groups;

    private InvokingUser(uint? uid, IEnumerable<uint> groups)
    {
        this.uid = uid;
        this.groups = [.. groups];
    }

    /// <summary>A user and the groups they are in.</summary>
    public static InvokingUser Of(uint uid, IEnumerable<uint> groups) => new(uid, groups);

    /// <summary>Nobody in particular: the permission bits for "others".</summary>
    public static InvokingUser Others { get; } = new(null, []);

    /// <summary>
    /// Whether this user could open a file of this mode and owner for reading (stat(2)'s st_mode, st_uid, st_gid),
    /// by the classic permission bits: owner, then group, then others, the first class that applies decides
    /// (inode_permission in fs/namei.c without capabilities; 0x100, 0x20, 0x4 are S_IRUSR, S_IRGRP, S_IROTH). ACLs are not read: a file an ACL opens to the user
    /// needs a rule, which errs on the closed side.
    /// </summary>
    public bool CanRead(uint mode, uint owner, uint group)
    {
        if (uid is { } u && u == owner)
        {
            return (mode & 0x100) != 0;
        }

        if (uid is not null && groups.Contains(group))
        {
            return (mode & 0x20) != 0;
        }

        return (mode & 0x4) != 0;
    }
}
