using Cordon.Interop;
using Cordon.Policy;

namespace Cordon.Supervisor;

/// <summary>The file-system family: every call here is performed by cordon on descriptors it resolved itself.</summary>
internal sealed partial class Supervisor
{
    private const int MaxSymlinkHops = 40;

    private ValueTask Openat2(Call c)
    {
        // struct open_how may grow; the kernel accepts a larger struct whose extra bytes are zero (openat2(2)).
        ulong size = c.Args[3];
        if (size < 24 || size > 4096)
        {
            c.Fail(size < 24 ? Errno.EINVAL : Errno.E2BIG);
            return ValueTask.CompletedTask;
        }

        var raw = new byte[size];
        var err = ProcessMemory.Read(c.Tid, c.Args[2], raw);
        if (err != Errno.None || !c.StillValid())
        {
            c.Fail(err == Errno.None ? Errno.EIO : Errno.EFAULT);
            return ValueTask.CompletedTask;
        }

        if (raw.AsSpan(24).ContainsAnyExcept((byte)0))
        {
            c.Fail(Errno.E2BIG);
            return ValueTask.CompletedTask;
        }

        ulong flags = BitConverter.ToUInt64(raw, 0);
        ulong mode = BitConverter.ToUInt64(raw, 8);
        ulong resolve = BitConverter.ToUInt64(raw, 16);
        if ((flags & Kernel.O_PATH) != 0)
        {
            // An O_PATH descriptor cannot be injected (SECCOMP_IOCTL_NOTIF_ADDFD answers EBADF) and CONTINUE would let
            // the kernel re-read flags that a second thread may have changed. Programs that use openat2 fall back to
            // openat on ENOSYS, as on kernels before 5.6.
            c.Fail(Errno.ENOSYS);
            return ValueTask.CompletedTask;
        }

        return Open(c, c.IntArg(0), c.Args[1], (int)flags, (uint)mode, resolve);
    }

    private async ValueTask Open(Call c, int dirfd, ulong pathAddr, int flags, uint mode, ulong resolve)
    {
        if ((flags & Kernel.O_PATH) != 0)
        {
            // O_PATH grants no data access: only what stat(2) tells, which cordon does not decide either. Every use of
            // such a descriptor that reaches data (openat relative to it, /proc/self/fd reopen, execveat, linkat) is
            // trapped and decided on its own. The flags are in a register, so CONTINUE cannot be raced into more.
            c.Continue();
            return;
        }

        var requested = ReadPath(c, pathAddr);
        if (requested is null)
        {
            return;
        }

        var path = Rewrite(c, requested, out var rewriteError);
        if (rewriteError != Errno.None)
        {
            c.Fail(rewriteError);
            return;
        }

        string requestedText = PathBytes.Text(requested);
        if ((flags & Kernel.O_TMPFILE_BIT) != 0)
        {
            await OpenTmpFile(c, dirfd, path, requestedText, flags, mode).ConfigureAwait(false);
            return;
        }

        var err = OpenBase(c, dirfd, path, emptyPathAllowed: false, out var baseFd, rooted: (resolve & Kernel.RESOLVE_IN_ROOT) != 0);
        if (err != Errno.None)
        {
            c.Fail(err);
            return;
        }

        try
        {
            for (int hop = 0; hop <= MaxSymlinkHops; hop++)
            {
                bool exclusive = (flags & (Kernel.O_CREAT | Kernel.O_EXCL)) == (Kernel.O_CREAT | Kernel.O_EXCL);

                // O_CREAT|O_EXCL never follows a trailing symlink (open(2)); neither does O_NOFOLLOW.
                int lookup = (flags & (Kernel.O_NOFOLLOW | Kernel.O_DIRECTORY)) | (exclusive ? Kernel.O_NOFOLLOW : 0);
                err = LookUp(baseFd, path, lookup, resolve, out var obj, out string canonical);
                if (err == Errno.None)
                {
                    using (obj)
                    {
                        await OpenExisting(c, obj!, canonical, path, requestedText, flags, exclusive).ConfigureAwait(false);
                    }

                    return;
                }

                if (err != Errno.ENOENT || (flags & Kernel.O_CREAT) == 0)
                {
                    c.Fail(err);
                    return;
                }

                var (parent, name, trailing) = PathBytes.Split(path);
                if (trailing || name.AsSpan().SequenceEqual("."u8) || name.AsSpan().SequenceEqual(".."u8))
                {
                    c.Fail(Errno.EISDIR);
                    return;
                }

                err = OpenPathFd(baseFd, parent, Kernel.O_DIRECTORY, resolve, out var dir);
                if (err != Errno.None)
                {
                    c.Fail(err);
                    return;
                }

                using (dir)
                {
                    if (TryStatAt(dir!, name, out var existing))
                    {
                        if ((existing.Type) != Kernel.S_IFLNK)
                        {
                            continue; // created meanwhile: decide it as an existing file
                        }

                        // A dangling symlink: open(O_CREAT) creates its target, wherever that is. Follow it here, one
                        // hop at a time, so the name finally created is decided like any other.
                        if (exclusive)
                        {
                            c.Fail(Errno.EEXIST);
                            return;
                        }

                        if ((flags & Kernel.O_NOFOLLOW) != 0)
                        {
                            c.Fail(Errno.ELOOP);
                            return;
                        }

                        var target = ReadLinkAt(dir!, name);
                        if (target is null || target.Length == 0)
                        {
                            c.Fail(Errno.ENOENT);
                            return;
                        }

                        path = target;
                        if (target[0] != (byte)'/')
                        {
                            baseFd?.Dispose();
                            baseFd = Dup(dir!);
                        }

                        continue;
                    }

                    string resource = PathBytes.Join(Canonical(dir!), name);
                    if (!await Allowed(c, AccessKind.Write, Operation.Create, resource, requestedText).ConfigureAwait(false))
                    {
                        c.Fail(Errno.EACCES);
                        return;
                    }

                    uint umask = ProcFs.Umask(c.Tid);

                    // O_EXCL|O_NOFOLLOW: the file we create is new, so it is exactly what was decided. If somebody
                    // created the name in between, start over and decide it as an existing file.
                    // A new file never gets setuid/setgid bits here: a chmod afterwards is decided on its own.
                    int fd = OpenAtName(dir!, name, (flags & ~Kernel.O_CLOEXEC) | Kernel.O_CREAT | Kernel.O_EXCL | Kernel.O_NOFOLLOW | Kernel.O_NOCTTY | Kernel.O_CLOEXEC, mode & ~umask & 0xFFF & ~PrivilegeBits(mode, Kernel.S_IFREG));
                    if (fd < 0)
                    {
                        var e = Io.LastErrno;
                        if (e == Errno.EEXIST && !exclusive)
                        {
                            continue;
                        }

                        c.Fail(e);
                        return;
                    }

                    using var created = new SafeFd(fd);
                    _ = Changed(0, resource);
                    WrittenThrough(created, resource);
                    c.ReturnFd(created, (flags & Kernel.O_CLOEXEC) != 0);
                    return;
                }
            }

            c.Fail(Errno.ELOOP);
        }
        finally
        {
            baseFd?.Dispose();
        }
    }

    private async ValueTask OpenExisting(Call c, SafeFd obj, string canonical, byte[] path, string requestedText, int flags, bool exclusive)
    {
        if (exclusive)
        {
            c.Fail(Errno.EEXIST);
            return;
        }

        var st = StatOf(obj);
        if (st.Type == Kernel.S_IFLNK)
        {
            // Only reachable with O_NOFOLLOW: open(2) answers ELOOP for a trailing symlink then.
            c.Fail(Errno.ELOOP);
            return;
        }

        int access = flags & Kernel.O_ACCMODE;
        bool write = access != Kernel.O_RDONLY || (flags & Kernel.O_TRUNC) != 0;
        bool read = access != Kernel.O_WRONLY;
        if (st.Type == Kernel.S_IFDIR && write)
        {
            c.Fail(Errno.EISDIR);
            return;
        }

        if (ProcRefusal(canonical) is { } refusal)
        {
            Refuse(c, read ? AccessKind.Read : AccessKind.Write, read ? Operation.Read : Operation.Write, canonical, requestedText, refusal);
            c.Fail(Errno.EACCES);
            return;
        }

        int ownFd = OwnFd(c, path);
        bool possessed = ownFd >= 0 && ProcFs.FdAccessMode(c.Tid, ownFd) is int held && Covers(held, access);
        if (!possessed)
        {
            // As root, cordon could open what the user could not: say so, so that only a user rule grants it.
            bool unreadable = reader is not null && !reader.CanRead(st.Mode, st.Uid, st.Gid);
            // A directory opened for reading is listed: "always" for it then covers the listing, not its files.
            var readOp = st.Type == Kernel.S_IFDIR ? Operation.List : Operation.Read;
            if (read && !await Allowed(c, AccessKind.Read, readOp, canonical, requestedText, unreadable: unreadable).ConfigureAwait(false))
            {
                c.Fail(Errno.EACCES);
                return;
            }

            if (write && !await Allowed(c, AccessKind.Write, Operation.Write, canonical, requestedText).ConfigureAwait(false))
            {
                c.Fail(Errno.EACCES);
                return;
            }
        }

        if (st.Type is not (Kernel.S_IFREG or Kernel.S_IFDIR))
        {
            // Opening a FIFO waits for its other end, a device may wait too: never on the notification loop.
            await Task.Yield();
        }

        // Reopen the very inode we decided on. O_CREAT/O_EXCL are moot (it exists) and O_NOFOLLOW was applied at
        // lookup (on the magic link it would fail). O_NOCTTY: cordon must never acquire the program's terminal.
        int reopen = (flags & ~(Kernel.O_CREAT | Kernel.O_EXCL | Kernel.O_NOFOLLOW | Kernel.O_CLOEXEC)) | Kernel.O_NOCTTY | Kernel.O_CLOEXEC;
        int fd = Reopen(obj, reopen);
        if (fd < 0)
        {
            c.Fail(Io.LastErrno);
            return;
        }

        using var opened = new SafeFd(fd);
        if (write)
        {
            WrittenThrough(opened, canonical);
        }

        c.ReturnFd(opened, (flags & Kernel.O_CLOEXEC) != 0);
    }

    private static bool Covers(int held, int wanted) =>
        held == Kernel.O_RDWR || held == wanted;

    private async ValueTask OpenTmpFile(Call c, int dirfd, byte[] path, string requestedText, int flags, uint mode)
    {
        // O_TMPFILE creates an unnamed file in a directory: decided as creating a file there.
        var err = ResolveObject(c, dirfd, path, follow: true, emptyPath: false, out var dir, out string canonical);
        if (err != Errno.None)
        {
            c.Fail(err);
            return;
        }

        using (dir)
        {
            if (!await Allowed(c, AccessKind.Write, Operation.Create, canonical, requestedText).ConfigureAwait(false))
            {
                c.Fail(Errno.EACCES);
                return;
            }

            uint umask = ProcFs.Umask(c.Tid);
            int fd = Reopen(dir!, (flags & ~Kernel.O_CLOEXEC) | Kernel.O_CLOEXEC, mode & ~umask & 0xFFF & ~PrivilegeBits(mode, Kernel.S_IFREG));
            if (fd < 0)
            {
                c.Fail(Io.LastErrno);
                return;
            }

            using var opened = new SafeFd(fd);
            c.ReturnFd(opened, (flags & Kernel.O_CLOEXEC) != 0);
        }
    }

    private async ValueTask Remove(Call c, int dirfd, ulong pathAddr, int flags)
    {
        var requested = ReadPath(c, pathAddr);
        if (requested is null)
        {
            return;
        }

        var err = ResolveParent(c, dirfd, requested, out var dir, out var name, out bool trailing, out string resource);
        if (err != Errno.None)
        {
            c.Fail(err);
            return;
        }

        using (dir)
        {
            if (!await Allowed(c, AccessKind.Write, Operation.Delete, resource, PathBytes.Text(requested)).ConfigureAwait(false))
            {
                c.Fail(Errno.EACCES);
                return;
            }

            c.Result(Changed(UnlinkAtName(dir!, name, trailing, flags & Kernel.AT_REMOVEDIR), resource));
        }
    }

    private async ValueTask MakeNode(Call c, int dirfd, ulong pathAddr, uint mode, ulong dev)
    {
        var requested = ReadPath(c, pathAddr);
        if (requested is null)
        {
            return;
        }

        var err = ResolveParent(c, dirfd, requested, out var dir, out var name, out bool trailing, out string resource);
        if (err != Errno.None)
        {
            c.Fail(err);
            return;
        }

        using (dir)
        {
            if (TryStatAt(dir!, name, out _))
            {
                // mkdir -p asks for every existing component: an existing name is no new access.
                c.Fail(Errno.EEXIST);
                return;
            }

            bool directory = (mode & Kernel.S_IFMT) == Kernel.S_IFDIR;
            if (!await Allowed(c, AccessKind.Write, Operation.Create, resource, PathBytes.Text(requested), directory: directory).ConfigureAwait(false))
            {
                c.Fail(Errno.EACCES);
                return;
            }

            uint type = mode & Kernel.S_IFMT;
            if (type is Kernel.S_IFCHR or Kernel.S_IFBLK && !NamedByRule(resource))
            {
                Refuse(c, AccessKind.Write, Operation.Create, resource, PathBytes.Text(requested), "a device node: a way past every permission, left behind outside the sandbox");
                c.Fail(Errno.EPERM);
                return;
            }

            uint umask = ProcFs.Umask(c.Tid);
            uint perm = mode & 0xFFF & ~umask & ~PrivilegeBits(mode, type);
            int made = directory ? MkdirAtName(dir!, name, perm) : MknodAtName(dir!, name, (mode & Kernel.S_IFMT) | perm, dev);
            if (directory && made == 0)
            {
                // mkdirat succeeded on the name in the directory decided on: a folder the run made is its own.
                policy.Guard.DirectoryCreated(resource);
            }

            c.Result(Changed(made, resource));
        }
    }

    private async ValueTask Rename(Call c, int oldDirfd, ulong oldAddr, int newDirfd, ulong newAddr, uint flags)
    {
        var oldPath = ReadPath(c, oldAddr);
        if (oldPath is null)
        {
            return;
        }

        var newPath = ReadPath(c, newAddr);
        if (newPath is null)
        {
            return;
        }

        var err = ResolveParent(c, oldDirfd, oldPath, out var oldDir, out var oldName, out bool oldSlash, out string oldResource);
        if (err != Errno.None)
        {
            c.Fail(err);
            return;
        }

        using (oldDir)
        {
            err = ResolveParent(c, newDirfd, newPath, out var newDir, out var newName, out bool newSlash, out string newResource);
            if (err != Errno.None)
            {
                c.Fail(err);
                return;
            }

            using (newDir)
            {
                // Moving a name away deletes it from its old place, and a moved-in name replaces what was there:
                // both ends need write access (with RENAME_EXCHANGE both names move both ways).
                if (!await Allowed(c, AccessKind.Write, Operation.Rename, oldResource, PathBytes.Text(oldPath)).ConfigureAwait(false)
                    || !await Allowed(c, AccessKind.Write, Operation.Rename, newResource, PathBytes.Text(newPath)).ConfigureAwait(false))
                {
                    c.Fail(Errno.EACCES);
                    return;
                }

                // Before the move: a folder the run created must not lend its name to one the user had.
                policy.Guard.Moved(oldResource);
                policy.Guard.Moved(newResource);
                c.Result(Changed(RenameAtNames(oldDir!, oldName, oldSlash, newDir!, newName, newSlash, flags), oldResource, newResource));
            }
        }
    }

    private async ValueTask Link(Call c, int oldDirfd, ulong oldAddr, int newDirfd, ulong newAddr, int flags)
    {
        var oldPath = oldAddr == 0 ? Array.Empty<byte>() : ReadPath(c, oldAddr);
        if (oldPath is null)
        {
            return;
        }

        var newPath = ReadPath(c, newAddr);
        if (newPath is null)
        {
            return;
        }

        bool emptyPath = (flags & Kernel.AT_EMPTY_PATH) != 0;
        var err = ResolveObject(c, oldDirfd, oldPath, follow: (flags & Kernel.AT_SYMLINK_FOLLOW) != 0, emptyPath, out var source, out string sourceResource);
        if (err != Errno.None)
        {
            c.Fail(err);
            return;
        }

        using (source)
        {
            err = ResolveParent(c, newDirfd, newPath, out var newDir, out var newName, out _, out string newResource);
            if (err != Errno.None)
            {
                c.Fail(err);
                return;
            }

            using (newDir)
            {
                // A hard link is a second name for the same file: whoever may open the new name reads and writes the
                // old file. So it needs read and write access to the source as well as creating the new name.
                string text = PathBytes.Text(oldPath);
                if (!await Allowed(c, AccessKind.Read, Operation.Link, sourceResource, text).ConfigureAwait(false)
                    || !await Allowed(c, AccessKind.Write, Operation.Link, sourceResource, text).ConfigureAwait(false)
                    || !await Allowed(c, AccessKind.Write, Operation.Create, newResource, PathBytes.Text(newPath)).ConfigureAwait(false))
                {
                    c.Fail(Errno.EACCES);
                    return;
                }

                c.Result(Changed(LinkAtName(source!, newDir!, newName), newResource));
            }
        }
    }

    private async ValueTask Symlink(Call c, ulong targetAddr, int newDirfd, ulong newAddr)
    {
        // The target is only text: following the link later is decided on what it reaches.
        var target = ReadPath(c, targetAddr);
        if (target is null)
        {
            return;
        }

        var newPath = ReadPath(c, newAddr);
        if (newPath is null)
        {
            return;
        }

        var err = ResolveParent(c, newDirfd, newPath, out var dir, out var name, out _, out string resource);
        if (err != Errno.None)
        {
            c.Fail(err);
            return;
        }

        using (dir)
        {
            if (!await Allowed(c, AccessKind.Write, Operation.Create, resource, PathBytes.Text(newPath)).ConfigureAwait(false))
            {
                c.Fail(Errno.EACCES);
                return;
            }

            c.Result(Changed(SymlinkAtName(target, dir!, name), resource));
        }
    }

    /// <summary>Resolves the object of an attribute change and asks for Write/Attributes on it.</summary>
    private async ValueTask<(SafeFd? Obj, string Canonical)> AttributeTarget(Call c, int dirfd, ulong pathAddr, int flags, bool fdOnly)
    {
        byte[]? path = null;
        if (!fdOnly && pathAddr != 0)
        {
            path = ReadPath(c, pathAddr);
            if (path is null)
            {
                return (null, "");
            }
        }

        bool emptyPath = fdOnly || pathAddr == 0 || (flags & Kernel.AT_EMPTY_PATH) != 0;
        var err = ResolveObject(c, dirfd, path, follow: (flags & Kernel.AT_SYMLINK_NOFOLLOW) == 0, emptyPath, out var obj, out string canonical);
        if (err != Errno.None)
        {
            c.Fail(err);
            return (null, "");
        }

        if (canonical.Length == 0 || canonical[0] != '/')
        {
            // "socket:[N]", "pipe:[N]", "anon_inode:...": the program's own object, in no file system. Its mode
            // (fchmod on a socket before bind sets the socket file's) writes no file: nothing to decide.
            return (obj, "");
        }

        if (!await Allowed(c, AccessKind.Write, Operation.Attributes, canonical, path is null ? null : PathBytes.Text(path)).ConfigureAwait(false))
        {
            obj!.Dispose();
            c.Fail(Errno.EACCES);
            return (null, "");
        }

        return (obj, canonical);
    }

    private async ValueTask Chmod(Call c, int dirfd, ulong pathAddr, uint mode, int flags, bool fdOnly)
    {
        var (target, canonical) = await AttributeTarget(c, dirfd, pathAddr, flags, fdOnly).ConfigureAwait(false);
        using var obj = target;
        if (obj is null)
        {
            return;
        }

        var st = StatOf(obj);
        if (st.Type == Kernel.S_IFLNK)
        {
            c.Fail(Errno.EOPNOTSUPP); // Linux has no modes on symlinks (fchmodat2 with AT_SYMLINK_NOFOLLOW)
            return;
        }

        if (PrivilegeBits(mode, st.Type) != 0 && !PrivilegeAllowed(c, obj, "a setuid or setgid bit"))
        {
            c.Fail(Errno.EPERM);
            return;
        }

        c.Result(Changed(ChmodVia(obj, mode), canonical));
    }

    private async ValueTask Chown(Call c, int dirfd, ulong pathAddr, uint owner, uint group, int flags, bool fdOnly)
    {
        var (target, canonical) = await AttributeTarget(c, dirfd, pathAddr, flags, fdOnly).ConfigureAwait(false);
        using var obj = target;
        if (obj is null)
        {
            return;
        }

        if (owner != uint.MaxValue && owner != StatOf(obj).Uid && !OwnUid(owner) && !PrivilegeAllowed(c, obj, "ownership given to another user"))
        {
            c.Fail(Errno.EPERM);
            return;
        }

        c.Result(Changed(ChownVia(obj, owner, group), canonical));
    }

    private async ValueTask Truncate(Call c, ulong pathAddr, long length)
    {
        var path = ReadPath(c, pathAddr);
        if (path is null)
        {
            return;
        }

        var err = ResolveObject(c, Kernel.AT_FDCWD, path, follow: true, emptyPath: false, out var obj, out string canonical);
        if (err != Errno.None)
        {
            c.Fail(err);
            return;
        }

        using (obj)
        {
            if (!await Allowed(c, AccessKind.Write, Operation.Write, canonical, PathBytes.Text(path)).ConfigureAwait(false))
            {
                c.Fail(Errno.EACCES);
                return;
            }

            c.Result(Changed(TruncateVia(obj!, length), canonical));
        }
    }

    private enum TimesFormat
    {
        Utimbuf,
        Timeval,
        Timespec,
    }

    private async ValueTask Utimes(Call c, int dirfd, ulong pathAddr, ulong timesAddr, int flags, TimesFormat format)
    {
        Timespec[]? times = null;
        if (timesAddr != 0)
        {
            var raw = new byte[format == TimesFormat.Utimbuf ? 16 : 32];
            var err = ProcessMemory.Read(c.Tid, timesAddr, raw);
            if (err != Errno.None || !c.StillValid())
            {
                c.Fail(Errno.EFAULT);
                return;
            }

            times = format switch
            {
                TimesFormat.Utimbuf => [new() { Sec = BitConverter.ToInt64(raw, 0) }, new() { Sec = BitConverter.ToInt64(raw, 8) }],
                TimesFormat.Timeval =>
                [
                    new() { Sec = BitConverter.ToInt64(raw, 0), Nsec = BitConverter.ToInt64(raw, 8) * 1000 },
                    new() { Sec = BitConverter.ToInt64(raw, 16), Nsec = BitConverter.ToInt64(raw, 24) * 1000 },
                ],
                _ =>
                [
                    new() { Sec = BitConverter.ToInt64(raw, 0), Nsec = BitConverter.ToInt64(raw, 8) },
                    new() { Sec = BitConverter.ToInt64(raw, 16), Nsec = BitConverter.ToInt64(raw, 24) },
                ],
            };
        }

        // utimensat(fd, NULL, ...) changes the descriptor's own file (futimens).
        bool fdOnly = pathAddr == 0 && format == TimesFormat.Timespec;
        var (target, canonical) = await AttributeTarget(c, dirfd, pathAddr, flags, fdOnly).ConfigureAwait(false);
        using var obj = target;
        if (obj is null)
        {
            return;
        }

        c.Result(Changed(UtimensVia(obj, times), canonical));
    }

    private async ValueTask Xattr(Call c)
    {
        // (dirfd, path, at-flags, name, value, size, xattr flags) per variant; fd variants act on the descriptor.
        var sys = (Seccomp.Sys)c.Nr;
        bool remove = sys is Seccomp.Sys.Removexattr or Seccomp.Sys.Lremovexattr or Seccomp.Sys.Fremovexattr or Seccomp.Sys.Removexattrat;
        int dirfd = Kernel.AT_FDCWD;
        ulong pathAddr = 0;
        int atFlags = 0;
        bool fdOnly = false;
        int nameArg;
        switch (sys)
        {
            case Seccomp.Sys.Fsetxattr or Seccomp.Sys.Fremovexattr:
                dirfd = c.IntArg(0);
                fdOnly = true;
                nameArg = 1;
                break;
            case Seccomp.Sys.Setxattrat or Seccomp.Sys.Removexattrat:
                dirfd = c.IntArg(0);
                pathAddr = c.Args[1];
                atFlags = c.IntArg(2);
                nameArg = 3;
                break;
            default:
                pathAddr = c.Args[0];
                atFlags = sys is Seccomp.Sys.Lsetxattr or Seccomp.Sys.Lremovexattr ? Kernel.AT_SYMLINK_NOFOLLOW : 0;
                nameArg = 1;
                break;
        }

        var nameBuf = new byte[256];
        int n = ProcessMemory.ReadCString(c.Tid, c.Args[nameArg], nameBuf);
        if (n < 0)
        {
            c.Fail(n == -(int)Errno.ENAMETOOLONG ? Errno.ERANGE : Errno.EFAULT);
            return;
        }

        var name = PathBytes.Z(nameBuf.AsSpan(0, n));
        byte[] value = [];
        int xflags = 0;
        if (!remove)
        {
            ulong valueAddr;
            ulong size;
            if (sys == Seccomp.Sys.Setxattrat)
            {
                // struct xattr_args { __aligned_u64 value; __u32 size; __u32 flags; } (include/uapi/linux/xattr.h)
                var args = new byte[16];
                if (ProcessMemory.Read(c.Tid, c.Args[4], args) != Errno.None)
                {
                    c.Fail(Errno.EFAULT);
                    return;
                }

                valueAddr = BitConverter.ToUInt64(args, 0);
                size = BitConverter.ToUInt32(args, 8);
                xflags = BitConverter.ToInt32(args, 12);
            }
            else
            {
                valueAddr = c.Args[nameArg + 1];
                size = c.Args[nameArg + 2];
                xflags = c.IntArg(nameArg + 3);
            }

            if (size > 65536)
            {
                c.Fail(Errno.E2BIG);
                return;
            }

            value = new byte[size];
            if (size > 0 && ProcessMemory.Read(c.Tid, valueAddr, value) != Errno.None)
            {
                c.Fail(Errno.EFAULT);
                return;
            }
        }

        if (!c.StillValid())
        {
            c.Fail(Errno.EIO);
            return;
        }

        var (target, canonical) = await AttributeTarget(c, dirfd, pathAddr, atFlags, fdOnly).ConfigureAwait(false);
        using var obj = target;
        if (obj is null)
        {
            return;
        }

        if (StatOf(obj).Type == Kernel.S_IFLNK)
        {
            c.Fail(Errno.EPERM); // user.* attributes are not allowed on symlinks; others need privileges
            return;
        }

        if (!remove && PrivilegedXattr(nameBuf.AsSpan(0, n)) && !PrivilegeAllowed(c, obj, "a security or trusted attribute (file capabilities)"))
        {
            c.Fail(Errno.EPERM);
            return;
        }

        c.Result(Changed(remove ? RemoveXattrVia(obj, name) : SetXattrVia(obj, name, value, xflags), canonical));
    }
}
