/*
 * cordon-launcher: the only native code of cordon's seccomp engine. It runs between cordon (the supervisor, C#)
 * and the program, where managed code cannot run, and holds NO policy: it sets up the process, installs the filter
 * cordon built, and then either execs the program or reaps the sandbox. Protocol: README.md beside this file.
 *
 *   cordon-launcher --ppid PID [--ctty] [--no-listener] [--view] [--user UID:GID] [--umask OCTAL] [--keep-caps HEX]
 *                   -- PATH ARGV0 [ARGS...]
 *   cordon-launcher --probe
 *
 * --no-listener (the LSM engine): the filter only refuses, nothing is trapped and there is no listener; the kernel's
 * LSM hooks decide instead, and cordon moves this process into the sandbox's cgroup before it says "go". --user: become UID:GID (no supplementary groups) first,
 * so the program runs as the user who started cordon with sudo. --umask: the program's umask (cordon's own is 0).
 * --keep-caps: when the program would run as root, every capability outside this mask leaves the bounding,
 * permitted, effective, inheritable and ambient sets (cordon chooses the mask; nothing here decides it).
 *
 * fd 3 is a SOCK_SEQPACKET control socket to cordon. Every failing call prints one line with errno and exits 125.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sched.h>
#include <unistd.h>

/* Debian 12's headers (Linux 6.1) lack these; values from include/uapi/linux/{landlock,seccomp}.h. */
#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif
#ifndef SECCOMP_FILTER_FLAG_NEW_LISTENER
#define SECCOMP_FILTER_FLAG_NEW_LISTENER (1UL << 3)
#endif
#define CORDON_LANDLOCK_CREATE_RULESET_VERSION (1U << 0)
#define CORDON_LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)
#define CORDON_LANDLOCK_SCOPE_SIGNAL (1ULL << 1)
#define CORDON_LANDLOCK_ACCESS_FS_MAKE_BLOCK (1ULL << 11)
#define CORDON_SYS_landlock_create_ruleset 444
#define CORDON_SYS_landlock_restrict_self 446

/* struct landlock_ruleset_attr as of ABI 6 (handled_access_fs, handled_access_net, scoped). */
struct cordon_ruleset_attr {
    uint64_t handled_access_fs;
    uint64_t handled_access_net;
    uint64_t scoped;
};

#define CONTROL_FD 3
#define MAX_FILTER (4096 * 8)

static void die(const char *what, ...) __attribute__((noreturn, format(printf, 1, 2)));
/* While the view is being built (--view), a failure goes to cordon as "viewfail WHAT: ERROR" instead of the
 * terminal: the program has not started, and cordon may say in one line why and use the seccomp engine instead.
 * Later, until "ready", it goes to cordon as "fail WHAT: ERROR", for cordon to say in its own line (with what the
 * error means there: a filter that refuses a second supervisor is a sandbox inside a sandbox). */
static int building_view;
static int reporting;
/* The view's first process (the reaper) waits on this pipe's end before it says "ready": the outer launcher closes
 * the other end once it has said "reaper PID", so that cordon gets the two in that order. They come from two
 * processes on one socket, and under load the reaper could say "ready" first; cordon then failed the run and
 * waited for the outer launcher, which waited for the reaper, which waited for cordon's "go". */
static int reaper_turn = -1;
/* --reaper-delay-ms (tests only, from CORDON_TEST_REAPER_DELAY_MS): the outer launcher waits this long before it says
 * "reaper PID", as a loaded machine may make it, so that the test can check the order holds. */
static int reaper_delay_ms;

static void die(const char *what, ...)
{
    int e = errno;
    char line[512];
    va_list ap;
    va_start(ap, what);
    int n = vsnprintf(line, sizeof line, what, ap);
    va_end(ap);
    if (building_view || reporting) {
        char msg[640];
        int m = snprintf(msg, sizeof msg, "%s %s: %s", building_view ? "viewfail" : "fail", n > 0 ? line : what, strerror(e));
        if (m > 0 && write(CONTROL_FD, msg, (size_t)(m < (int)sizeof msg ? m : (int)sizeof msg - 1)) > 0)
            _exit(125);
    }
    fprintf(stderr, "cordon-launcher: %s: %s\n", line, strerror(e));
    _exit(125);
}

/* One packet on the control socket. write() is never trapped by cordon's filter (small send()s are: they may be
 * DNS queries), so the launcher can talk to cordon before cordon holds the listener. A SOCK_SEQPACKET write is one
 * packet. The reaper ignores SIGPIPE; before the fork a SIGPIPE means cordon is gone, and dying is right then. */
static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    char line[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (write(CONTROL_FD, line, (size_t)n) != n)
        die("write to cordon");
}

static void close_inherited_fds(void)
{
    if (syscall(SYS_close_range, CONTROL_FD + 1, ~0U, 0) == 0)
        return;
    if (errno != ENOSYS)
        die("close_range");
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        die("opendir /proc/self/fd");
    int self = dirfd(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        int fd = atoi(e->d_name);
        if (fd > CONTROL_FD && fd != self)
            close(fd);
    }
    closedir(d);
}

static void reset_signals(void)
{
    /* The .NET runtime ignores SIGPIPE, and an ignored disposition survives execve: give the program defaults. */
    for (int s = 1; s < _NSIG; s++)
        signal(s, SIG_DFL); /* fails harmlessly for SIGKILL, SIGSTOP and the real-time signals glibc reserves */
    sigset_t none;
    sigemptyset(&none);
    if (sigprocmask(SIG_SETMASK, &none, NULL) != 0)
        die("sigprocmask");
}

/* Returns the Landlock ABI (0 when absent) after this process joined a new Landlock domain. With ABI >= 6 the domain
 * handles no file or net access but scopes signals and abstract Unix sockets: nothing in it can signal, or connect
 * to an abstract socket of, a process outside it. Every Landlock domain also restricts ptrace-style access (ptrace,
 * process_vm_readv, /proc/PID/{mem,environ,maps,fd,...}, pidfd_getfd, kcmp) to processes in the same domain or in
 * domains nested in it (security/landlock/task.c), whatever the caller's capabilities. Older ABIs cannot scope,
 * but handling MAKE_BLOCK (with no rule: block devices are never made) still makes a domain, and with it the
 * ptrace restriction. Called twice: once for the sandbox (the reaper's domain), once more in the program's child,
 * so that the program sits in a domain nested inside the reaper's and can neither signal, stop, trace nor read
 * the reaper, while the reaper can still kill the whole sandbox. */
static int join_landlock_domain(void)
{
    long abi = syscall(CORDON_SYS_landlock_create_ruleset, NULL, 0, CORDON_LANDLOCK_CREATE_RULESET_VERSION);
    if (abi < 0)
        return 0;
    struct cordon_ruleset_attr attr = {
        .handled_access_fs = abi >= 6 ? 0 : CORDON_LANDLOCK_ACCESS_FS_MAKE_BLOCK,
        .handled_access_net = 0,
        .scoped = abi >= 6 ? CORDON_LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | CORDON_LANDLOCK_SCOPE_SIGNAL : 0,
    };
    /* Before ABI 6 the attribute ends before "scoped" (ABI 4 added handled_access_net): pass the size it knows. */
    size_t size = abi >= 6 ? sizeof attr : abi >= 4 ? 2 * sizeof(uint64_t) : sizeof(uint64_t);
    int ruleset = (int)syscall(CORDON_SYS_landlock_create_ruleset, &attr, size, 0);
    if (ruleset < 0)
        die("landlock_create_ruleset");
    if (syscall(CORDON_SYS_landlock_restrict_self, ruleset, 0) != 0)
        die("landlock_restrict_self");
    close(ruleset);
    return (int)abi;
}

/* A program that would run as root keeps only the capabilities in `keep`: the bounding set loses the others (so no
 * later execve gives them back), and so do the permitted, effective and inheritable sets and the ambient set. A
 * process that is not root holds none to begin with (no_new_privs keeps file capabilities from adding any). */
static void limit_capabilities(uint64_t keep, int always)
{
    if (geteuid() != 0 && !always)
        return;
    for (int cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; cap++) {
        if (cap < 64 && (keep >> cap) & 1)
            continue;
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0)
            die("prctl(PR_CAPBSET_DROP, %d)", cap);
    }
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL)
        die("prctl(PR_CAP_AMBIENT_CLEAR_ALL)");
    struct __user_cap_header_struct header = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof data);
    if (syscall(SYS_capget, &header, data) != 0)
        die("capget");
    for (int k = 0; k < 2; k++) {
        uint32_t mask = (uint32_t)(keep >> (32 * k));
        data[k].effective &= mask;
        data[k].permitted &= mask;
        data[k].inheritable &= mask;
    }
    if (syscall(SYS_capset, &header, data) != 0)
        die("capset");
}

static int install_filter(const unsigned char *bytes, size_t len, int listener_wanted)
{
    struct sock_fprog prog = {.len = (unsigned short)(len / 8), .filter = (struct sock_filter *)(void *)bytes};
    if (!listener_wanted) {
        if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0)
            die("seccomp(SECCOMP_SET_MODE_FILTER)");
        return -1;
    }
    /* WAIT_KILLABLE_RECV: once cordon has received a call, ordinary signals no longer interrupt it (a restarted
     * call would be decided and performed twice); fatal signals still kill. Without it cordon refuses to run. */
    int fd = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
                          SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV, &prog);
    if (fd < 0)
        die("seccomp(SECCOMP_SET_MODE_FILTER, NEW_LISTENER|WAIT_KILLABLE_RECV)");
    return fd;
}


/* ---- The view (--view): the program's own user, mount and pid namespace, whose file system cordon describes. ----
 * Nothing here decides what the view holds: cordon sends the list of mounts (the "plan") and the launcher performs
 * it, line by line. docs/view.md has the design; the steps are in README.md beside this file. */
#define CORDON_SYS_open_tree 428
#define CORDON_SYS_move_mount 429
#define CORDON_SYS_fsopen 430
#define CORDON_SYS_fsconfig 431
#define CORDON_SYS_fsmount 432
#define CORDON_SYS_mount_setattr 442
#define CORDON_SYS_openat2 437
#define CORDON_OPEN_TREE_CLONE 1U
#define CORDON_OPEN_TREE_CLOEXEC O_CLOEXEC
#define CORDON_AT_RECURSIVE 0x8000
#define CORDON_MOVE_MOUNT_F_EMPTY_PATH 0x4
#define CORDON_MOVE_MOUNT_T_EMPTY_PATH 0x40
#define CORDON_FSCONFIG_SET_STRING 1
#define CORDON_FSCONFIG_SET_FLAG 0
#define CORDON_FSCONFIG_CMD_CREATE 6
#define CORDON_FSMOUNT_CLOEXEC 1
#define CORDON_MOUNT_ATTR_RDONLY 0x1ULL
#define CORDON_MOUNT_ATTR_NOSUID 0x2ULL
#define CORDON_MOUNT_ATTR_NODEV 0x4ULL
#define CORDON_RESOLVE_NO_MAGICLINKS 0x02ULL
#define CORDON_RESOLVE_NO_SYMLINKS 0x04ULL

struct cordon_open_how { uint64_t flags, mode, resolve; };
struct cordon_mount_attr { uint64_t attr_set, attr_clr, propagation, userns_fd; };

/* Where the view is put together before it becomes the root: a directory every system has. Whatever it hid in the
 * host's mount namespace is out of sight only inside this (private) copy of it. */
#define VIEW_BASE "/tmp"
#define MAX_PLAN (256 * 1024)
#define MAX_BINDS 4096

static void await(const char *word)
{
    char msg[64];
    ssize_t n = recv(CONTROL_FD, msg, sizeof msg - 1, 0);
    size_t len = strlen(word);
    if (n != (ssize_t)len || memcmp(msg, word, len) != 0) {
        fprintf(stderr, "cordon-launcher: cordon did not answer \"%s\"\n", word);
        _exit(125);
    }
}

static void write_proc_self(const char *file, const char *text)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/self/%s", file);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        die("open %s", path);
    size_t len = strlen(text);
    if (write(fd, text, len) != (ssize_t)len)
        die("write %s", path);
    close(fd);
}

/* A new mount namespace, and for a user who is not root a new user namespace to own it, which maps only the
 * user's own uid and gid. Root keeps its own user namespace: a program's capabilities in a child one would not
 * reach the host's network (raw sockets, ports below 1024), and root needs none to mount. */
static void view_enter_namespaces(void)
{
    uid_t uid = geteuid();
    gid_t gid = getegid();
    int flags = CLONE_NEWNS | (uid == 0 ? 0 : CLONE_NEWUSER);
    if (unshare(flags) != 0)
        die("unshare(%s)", flags & CLONE_NEWUSER ? "CLONE_NEWUSER | CLONE_NEWNS" : "CLONE_NEWNS");
    if (flags & CLONE_NEWUSER) {
        /* The user's own ids and no others: all a process may map in its own new namespace without a capability in
         * the parent one (user_namespaces(7)); gid_map takes it only once setgroups is denied. */
        char map[64];
        write_proc_self("setgroups", "deny\n");
        snprintf(map, sizeof map, "%u %u 1\n", (unsigned)uid, (unsigned)uid);
        write_proc_self("uid_map", map);
        snprintf(map, sizeof map, "%u %u 1\n", (unsigned)gid, (unsigned)gid);
        write_proc_self("gid_map", map);
    }
    /* Nothing mounted here may propagate back to the host, and nothing of the host's later mounts may come in. */
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
        die("mount(/, MS_REC | MS_PRIVATE)");
}

static int fsconfig_string(int fs, const char *key, const char *value)
{
    return (int)syscall(CORDON_SYS_fsconfig, fs, CORDON_FSCONFIG_SET_STRING, key, value, 0);
}

/* cordon's FUSE file system, created here but not yet attached anywhere: /dev/fuse must be opened in the namespace
 * that mounts it, and the connection's pid namespace is the mounter's (this process's, which is cordon's), so that
 * the thread ids in FUSE requests are the ones cordon knows. Returns the mount's descriptor; *device gets the
 * /dev/fuse descriptor, which cordon takes with pidfd_getfd. */
static int view_fuse(int *device)
{
    int dev = open("/dev/fuse", O_RDWR | O_CLOEXEC);
    if (dev < 0)
        die("open /dev/fuse");
    int fs = (int)syscall(CORDON_SYS_fsopen, "fuse", 1 /* FSOPEN_CLOEXEC */);
    if (fs < 0)
        die("fsopen(fuse)");
    char num[32];
    snprintf(num, sizeof num, "%d", dev);
    char uid[32], gid[32];
    snprintf(uid, sizeof uid, "%u", (unsigned)getuid());
    snprintf(gid, sizeof gid, "%u", (unsigned)getgid());
    if (fsconfig_string(fs, "source", "cordon") != 0 || fsconfig_string(fs, "fd", num) != 0 ||
        fsconfig_string(fs, "rootmode", "40000") != 0 || fsconfig_string(fs, "user_id", uid) != 0 ||
        fsconfig_string(fs, "group_id", gid) != 0 ||
        syscall(CORDON_SYS_fsconfig, fs, CORDON_FSCONFIG_SET_FLAG, "default_permissions", NULL, 0) != 0 ||
        syscall(CORDON_SYS_fsconfig, fs, CORDON_FSCONFIG_SET_FLAG, "allow_other", NULL, 0) != 0)
        die("fsconfig(fuse)");
    if (syscall(CORDON_SYS_fsconfig, fs, CORDON_FSCONFIG_CMD_CREATE, NULL, NULL, 0) != 0)
        die("fsconfig(fuse, FSCONFIG_CMD_CREATE)");
    int mnt = (int)syscall(CORDON_SYS_fsmount, fs, CORDON_FSMOUNT_CLOEXEC, CORDON_MOUNT_ATTR_NOSUID | CORDON_MOUNT_ATTR_NODEV);
    if (mnt < 0)
        die("fsmount(fuse)");
    close(fs);
    *device = dev;
    return mnt;
}

/* One line of the plan, split in place at tabs: "bind\tPATH\tATTRS", "tmpfs\tPATH", "proc\tPATH",
 * "devpts\tPATH", "symlink\tTARGET\tPATH". ATTRS: any of "ro", "nodev" (every bind is nosuid). */
struct plan_op {
    char *verb, *a, *b;
    int tree; /* bind: the detached copy of the source, taken before anything is mounted */
};

static char *next_field(char **s)
{
    char *f = *s;
    if (!f)
        return NULL;
    char *t = strchr(f, '\t');
    if (t) {
        *t = 0;
        *s = t + 1;
    } else {
        *s = NULL;
    }
    return f;
}

static size_t parse_plan(char *plan, struct plan_op *ops, size_t max)
{
    size_t n = 0;
    for (char *line = strtok(plan, "\n"); line; line = strtok(NULL, "\n")) {
        if (n == max) {
            fprintf(stderr, "cordon-launcher: the view has more than %zu mounts\n", max);
            _exit(125);
        }
        char *rest = line;
        ops[n].verb = next_field(&rest);
        ops[n].a = next_field(&rest);
        ops[n].b = next_field(&rest);
        ops[n].tree = -1;
        if (!ops[n].a || ops[n].a[0] != '/') {
            fprintf(stderr, "cordon-launcher: bad line in the view plan: %s\n", line);
            _exit(125);
        }
        n++;
    }
    return n;
}

/* The source of a bind, copied as a detached mount tree. It is reached with RESOLVE_NO_SYMLINKS: cordon names
 * canonical paths, and a symbolic link planted on the way since would fail the copy instead of redirecting it. */
static int clone_tree(const char *path)
{
    struct cordon_open_how how = {.flags = O_PATH | O_CLOEXEC, .resolve = CORDON_RESOLVE_NO_SYMLINKS | CORDON_RESOLVE_NO_MAGICLINKS};
    int fd = (int)syscall(CORDON_SYS_openat2, AT_FDCWD, path, &how, sizeof how);
    if (fd < 0)
        return -1;
    int tree = (int)syscall(CORDON_SYS_open_tree, fd, "", CORDON_OPEN_TREE_CLONE | CORDON_OPEN_TREE_CLOEXEC | CORDON_AT_RECURSIVE | AT_EMPTY_PATH);
    int e = errno;
    close(fd);
    errno = e;
    return tree;
}

/* A bind's attributes, on the detached copy: always nosuid; ATTRS may add "ro" and "nodev". */
static int set_bind_attrs(int tree, const char *attrs)
{
    struct cordon_mount_attr attr = {.attr_set = CORDON_MOUNT_ATTR_NOSUID};
    if (attrs && strstr(attrs, "ro"))
        attr.attr_set |= CORDON_MOUNT_ATTR_RDONLY;
    if (attrs && strstr(attrs, "nodev"))
        attr.attr_set |= CORDON_MOUNT_ATTR_NODEV;
    return (int)syscall(CORDON_SYS_mount_setattr, tree, "", AT_EMPTY_PATH | CORDON_AT_RECURSIVE, &attr, sizeof attr);
}

/* The mount point for PATH inside the view: created if it sits on something of ours (a tmpfs), which the FUSE
 * mirror refuses (EROFS) and needs not: it shows what the host has. */
static void make_mount_point(const char *target, int directory)
{
    struct stat st;
    if (lstat(target, &st) == 0)
        return;
    char parent[4096];
    snprintf(parent, sizeof parent, "%s", target);
    char *slash = strrchr(parent, '/');
    if (slash && slash != parent) {
        *slash = 0;
        make_mount_point(parent, 1);
    }
    if (directory ? mkdir(target, 0755) != 0 && errno != EEXIST : mknod(target, S_IFREG | 0644, 0) != 0 && errno != EEXIST)
        die("create the mount point %s", target);
}

static void in_view(char *out, size_t size, const char *path)
{
    snprintf(out, size, VIEW_BASE "%s", path);
}

static void perform(struct plan_op *op)
{
    char target[4096];
    in_view(target, sizeof target, op->a);
    if (!strcmp(op->verb, "bind")) {
        if (op->tree < 0)
            return; /* gone since cordon planned it: the FUSE mirror shows what is there now */
        struct stat st;
        if (fstat(op->tree, &st) != 0)
            die("fstat %s", op->a);
        make_mount_point(target, S_ISDIR(st.st_mode));
        if (set_bind_attrs(op->tree, op->b) != 0)
            die("mount_setattr %s", op->a);
        if (syscall(CORDON_SYS_move_mount, op->tree, "", AT_FDCWD, target, CORDON_MOVE_MOUNT_F_EMPTY_PATH) != 0)
            die("move_mount %s", op->a);
        close(op->tree);
        op->tree = -1;
    } else if (!strcmp(op->verb, "tmpfs")) {
        make_mount_point(target, 1);
        if (mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") != 0)
            die("mount tmpfs on %s", op->a);
    } else if (!strcmp(op->verb, "proc")) {
        /* hidepid=invisible: a process the caller may not ptrace-read is not there at all. The program's Landlock
         * domain is nested in the reaper's, so the reaper (pid 1) is invisible to it, even to a root program: gid
         * names the group that would see everything anyway (root's, 0, by default), here one nobody has. */
        make_mount_point(target, 1);
        if (mount("proc", target, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "hidepid=invisible,gid=4294967294") != 0)
            die("mount proc on %s", op->a);
    } else if (!strcmp(op->verb, "devpts")) {
        make_mount_point(target, 1);
        if (mount("devpts", target, "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620") != 0)
            die("mount devpts on %s", op->a);
    } else if (!strcmp(op->verb, "symlink") && op->b && op->b[0] == '/') {
        char link[4096];
        in_view(link, sizeof link, op->b);
        if (symlink(op->a, link) != 0 && errno != EEXIST)
            die("symlink %s", op->b);
    } else {
        fprintf(stderr, "cordon-launcher: unknown view step %s\n", op->verb);
        _exit(125);
    }
}

/* In the pid namespace's first process: builds the view from the plan, then makes it the root. The host's
 * /proc is still mounted while the new one is, as the kernel requires of a proc mounted in a user namespace. */
static void view_build(int fuse_mount, struct plan_op *ops, size_t n)
{
    char cwd[4096];
    if (!getcwd(cwd, sizeof cwd))
        die("getcwd");
    if (syscall(CORDON_SYS_move_mount, fuse_mount, "", AT_FDCWD, VIEW_BASE, CORDON_MOVE_MOUNT_F_EMPTY_PATH) != 0)
        die("move_mount(fuse, " VIEW_BASE ")");
    close(fuse_mount);
    for (size_t k = 0; k < n; k++)
        perform(&ops[k]);
    if (chdir(VIEW_BASE) != 0)
        die("chdir " VIEW_BASE);
    if (syscall(SYS_pivot_root, ".", ".") != 0)
        die("pivot_root");
    if (umount2(".", MNT_DETACH) != 0)
        die("umount the host's root");
    if (chdir("/") != 0 || (chdir(cwd) != 0 && chdir("/") != 0))
        die("chdir");
}

/* A bind asked for while the program runs (a folder answer): "bind\tPATH\tATTRS", one packet on the binder socket,
 * answered "bound" or "bindfail STEP: ERROR". The source is copied from the host's tree (the outer launcher lives in
 * a copy of the host's mount namespace, `host_ns`), reached without following symbolic links as at launch; then the
 * launcher enters the view's mount namespace and attaches the copy at the same path there, reached the same way, so
 * a link planted in the view cannot redirect it either. Nothing here decides what is bound: cordon does. */
static void serve_bind(int binder, int host_ns, int view_ns)
{
    char msg[4200];
    ssize_t n = recv(binder, msg, sizeof msg - 1, 0);
    if (n <= 0)
        return;
    msg[n] = 0;
    char *rest = msg;
    char *verb = next_field(&rest), *path = next_field(&rest), *attrs = next_field(&rest);
    char reply[4300];
    const char *step = "request";
    int e = EINVAL;
    if (verb && path && !strcmp(verb, "bind") && path[0] == '/') {
        step = "open_tree";
        int tree = clone_tree(path);
        e = errno;
        if (tree >= 0) {
            step = "mount_setattr";
            int ok = set_bind_attrs(tree, attrs) == 0;
            e = errno;
            if (ok) {
                step = "setns";
                ok = setns(view_ns, CLONE_NEWNS) == 0;
                e = errno;
            }
            if (ok) {
                struct cordon_open_how how = {.flags = O_PATH | O_CLOEXEC, .resolve = CORDON_RESOLVE_NO_SYMLINKS | CORDON_RESOLVE_NO_MAGICLINKS};
                step = "the mount point";
                int target = (int)syscall(CORDON_SYS_openat2, AT_FDCWD, path, &how, sizeof how);
                e = errno;
                struct stat a, b;
                if (target >= 0 && fstat(tree, &a) == 0 && fstat(target, &b) == 0 && (a.st_mode & S_IFMT) != (b.st_mode & S_IFMT)) {
                    close(target);
                    target = -1;
                    e = ENOTDIR;
                }
                if (target >= 0) {
                    step = "move_mount";
                    ok = syscall(CORDON_SYS_move_mount, tree, "", target, "", CORDON_MOVE_MOUNT_F_EMPTY_PATH | CORDON_MOVE_MOUNT_T_EMPTY_PATH) == 0;
                    e = errno;
                    close(target);
                } else {
                    ok = 0;
                }
                if (setns(host_ns, CLONE_NEWNS) != 0)
                    die("setns back to the host's tree");
            }
            close(tree);
            if (ok) {
                (void)!write(binder, "bound", 5);
                return;
            }
        }
    }
    int len = snprintf(reply, sizeof reply, "bindfail %s: %s", step, strerror(e));
    (void)!write(binder, reply, (size_t)len);
}

/* The outer launcher waits here for the pid namespace's first process, which becomes the reaper, and meanwhile
 * performs the binds cordon asks for (serve_bind). It dies with cordon (its parent-death signal), taking the
 * namespaces with it; it is outside the view's pid namespace, so nothing in the sandbox can see or signal it. */
static void view_outer(pid_t first, int binder, int host_ns, int view_ns, int turn)
{
    static const int ignored[] = {SIGINT, SIGQUIT, SIGTSTP, SIGTTIN, SIGTTOU, SIGHUP, SIGPIPE};
    for (size_t k = 0; k < sizeof ignored / sizeof ignored[0]; k++)
        signal(ignored[k], SIG_IGN);
    if (setns(host_ns, CLONE_NEWNS) != 0)
        die("setns into the copy of the host's tree");
    int child = (int)syscall(SYS_pidfd_open, first, 0);
    if (reaper_delay_ms > 0)
        usleep((useconds_t)reaper_delay_ms * 1000);
    say("reaper %d", (int)first);
    close(turn); /* the reaper may say "ready" now */
    struct pollfd fds[2] = {{.fd = child, .events = POLLIN}, {.fd = binder, .events = POLLIN}};
    while (child >= 0) {
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (fds[0].revents)
            break;
        if (fds[1].revents & POLLIN)
            serve_bind(binder, host_ns, view_ns);
        else if (fds[1].revents)
            fds[1].fd = -1; /* cordon closed its end: nothing more will be bound */
    }
    int status = 0;
    while (waitpid(first, &status, __WALL) < 0 && errno == EINTR)
        ;
    _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 125);
}

/* --view, steps V1-V6 of README.md: returns in the pid namespace's first process, with the view as its root and
 * no capability but those in `keep` (which only a program that runs as root is given). */
static void view_start(uint64_t keep)
{
    building_view = 1;
    view_enter_namespaces();
    int device = -1;
    int fuse_mount = view_fuse(&device);
    /* The binder: cordon's way to ask the outer launcher for a bind while the program runs. And two mount
     * namespaces: this one, which becomes the view, and a copy of it made now, while it still is the host's tree,
     * where the outer launcher lives to copy trees from (open_tree copies only from the caller's namespace). */
    int binder[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, binder) != 0)
        die("socketpair");
    int view_ns = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
    int here = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC); /* setns moves the working directory to the root */
    if (view_ns < 0 || here < 0)
        die("open /proc/self/ns/mnt");
    if (unshare(CLONE_NEWNS) != 0)
        die("unshare(CLONE_NEWNS), the host tree's copy");
    int host_ns = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
    if (host_ns < 0 || setns(view_ns, CLONE_NEWNS) != 0 || fchdir(here) != 0)
        die("setns back into the view's namespace");
    close(here);
    say("fuse %d %d", device, binder[1]);
    await("serving");
    close(binder[1]);
    static char plan[MAX_PLAN];
    ssize_t len = recv(CONTROL_FD, plan, sizeof plan - 1, 0);
    if (len < 0)
        die("receive the view plan");
    plan[len] = 0;
    static struct plan_op ops[MAX_BINDS];
    size_t n = parse_plan(plan, ops, MAX_BINDS);
    for (size_t k = 0; k < n; k++)
        if (!strcmp(ops[k].verb, "bind") && (ops[k].tree = clone_tree(ops[k].a)) < 0 && errno != ENOENT)
            die("open_tree %s", ops[k].a);
    if (unshare(CLONE_NEWPID) != 0)
        die("unshare(CLONE_NEWPID)");
    int alive[2], turn[2];
    if (pipe2(alive, O_CLOEXEC) != 0 || pipe2(turn, O_CLOEXEC) != 0)
        die("pipe");
    pid_t first = fork();
    if (first < 0)
        die("fork");
    if (first > 0) {
        close(device);
        close(fuse_mount);
        close(alive[0]);
        close(turn[0]);
        for (size_t k = 0; k < n; k++)
            if (ops[k].tree >= 0)
                close(ops[k].tree);
        view_outer(first, binder[0], host_ns, view_ns, turn[1]);
    }
    close(turn[1]);
    reaper_turn = turn[0];
    close(binder[0]);
    close(host_ns);
    close(view_ns);
    /* Die with the outer launcher; the pipe tells whether it is already gone (its pid is not visible here). */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0)
        die("prctl(PR_SET_PDEATHSIG)");
    close(alive[1]);
    struct pollfd gone = {.fd = alive[0], .events = POLLIN};
    if (poll(&gone, 1, 0) != 0)
        _exit(125);
    close(alive[0]);
    close(device);
    view_build(fuse_mount, ops, n);
    limit_capabilities(keep, 1);
    building_view = 0;
}

/* Kills every process of the sandbox. With the Landlock signal scope, kill(-1) reaches exactly the processes of
 * this Landlock domain (and domains nested in it): the scope refuses every signal to a process outside, and
 * kill(-1) skips the caller. Without the scope kill(-1) would hit every process of the user, so then only the
 * program's process group is killed. */
static void kill_sandbox(int landlock_abi, pid_t child)
{
    if (landlock_abi >= 6 || getpid() == 1) /* pid 1: the view's pid namespace holds exactly the sandbox */
        kill(-1, SIGKILL);
    else if (child > 0)
        kill(-child, SIGKILL), kill(child, SIGKILL);
}

/* Waits for the program; then kills and reaps whatever is left of the sandbox, and only then sends the program's
 * wait status to cordon: "exit" tells cordon that nothing of the sandbox runs any more, so it can end without
 * waiting for this process and the namespaces to go. Wakes on SIGCHLD, on SIGTERM (our parent-death signal: cordon
 * died) and on EOF of the control socket. */
static int reap(pid_t child, int landlock_abi, int signals)
{
    /* The reaper runs under cordon's filter too: only untrapped calls from here on (send, kill, wait, poll). */
    say("child %d", (int)child);
    int main_done = 0, cordon_gone = 0, main_status = 0;
    while (!main_done && !cordon_gone) {
        int status;
        pid_t p;
        while ((p = waitpid(-1, &status, WNOHANG | WUNTRACED | __WALL)) > 0) {
            if (p == child && WIFSTOPPED(status)) {
                /* Ctrl-Z on cordon's terminal: cordon stops itself so that the user's shell sees a stopped job. */
                say("stop %d", WSTOPSIG(status));
            } else if (p == child) {
                main_status = status;
                main_done = 1;
            } /* else: an orphaned grandchild reparented to us, or one of them stopped */
        }
        if (main_done)
            break;
        struct pollfd pfd[2] = {{.fd = CONTROL_FD, .events = POLLIN}, {.fd = signals, .events = POLLIN}};
        if (poll(pfd, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (pfd[0].revents) {
            char b;
            if (recv(CONTROL_FD, &b, 1, MSG_DONTWAIT) <= 0)
                cordon_gone = 1;
        }
        if (pfd[1].revents) {
            struct signalfd_siginfo info;
            if (read(signals, &info, sizeof info) == (ssize_t)sizeof info && info.ssi_signo == SIGTERM)
                cordon_gone = 1;
        }
    }
    kill_sandbox(landlock_abi, child);
    while (waitpid(-1, NULL, __WALL) > 0 || errno == EINTR)
        ;
    if (main_done)
        say("exit %d", main_status);
    return main_done ? 0 : 125;
}

/* Tries to install a listener with the given flags in a throwaway child (a process may hold only one listener).
 * Prints "NAME ok", or "NAME " and the errno's name: EINVAL where the kernel lacks the flags, EPERM or EBUSY where
 * a filter this process already runs under refuses them (a sandbox or container around it). */
static void try_listener(const char *name, unsigned long flags)
{
    int err = ECHILD;
    pid_t p = fork();
    if (p == 0) {
        struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
        struct sock_fprog prog = {1, &allow};
        prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
        _exit(syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog) < 0 ? (errno & 0xff) : 0);
    }
    int st = 0;
    if (p > 0 && waitpid(p, &st, 0) == p && WIFEXITED(st))
        err = WEXITSTATUS(st);
    printf("%s %s\n", name, err == 0 ? "ok" : err == EINVAL ? "EINVAL" : err == EPERM ? "EPERM" : err == EBUSY ? "EBUSY" : "failed");
}

static int probe(void)
{
    long abi = syscall(CORDON_SYS_landlock_create_ruleset, NULL, 0, CORDON_LANDLOCK_CREATE_RULESET_VERSION);
    printf("landlock %ld\n", abi < 0 ? 0 : abi);
    try_listener("seccomp_notif", SECCOMP_FILTER_FLAG_NEW_LISTENER);
    try_listener("killable_recv", SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV);
    return 0;
}

static int launch(int argc, char **argv);

/* The next NUL-terminated string of a packet, or NULL at its end. */
static char *next_string(char **p, char *end)
{
    if (*p >= end)
        return NULL;
    char *s = *p;
    *p += strlen(s) + 1;
    return s;
}

/* cordon sends a parked launcher no more than these (ParkedLauncher.cs); a larger run gets a launcher of its own. */
#define MAX_PARKED (256 * 1024)
#define MAX_PARKED_ARGS 4096
#define MAX_PARKED_ENV 8192

/* --parked: cordon starts the launcher before it has read its own command line, so that this exec overlaps
 * cordon's start-up. One packet on the control socket then brings what the command line and the environment
 * would have: NUL-separated, the argument count and the arguments (from "cordon-launcher" on), the count of
 * descriptors passed with SCM_RIGHTS and the number each is to have (0, 1 or 2: the program's terminal), then the
 * program's environment. EOF instead: cordon did not run a program, and this exits without a word. Started with
 * an empty environment, so that the user's own never sits in this process. */
static int parked(void)
{
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0)
        _exit(125);
    static char buf[MAX_PARKED];
    static char *args[MAX_PARKED_ARGS + 1], *env[MAX_PARKED_ENV + 1];
    union {
        char space[CMSG_SPACE(3 * sizeof(int))];
        struct cmsghdr align;
    } control;
    struct iovec iov = {.iov_base = buf, .iov_len = sizeof buf - 1};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.space, .msg_controllen = sizeof control.space};
    ssize_t n = recvmsg(CONTROL_FD, &msg, MSG_CMSG_CLOEXEC);
    if (n <= 0)
        _exit(125);
    if (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC))
        die("the command line from cordon does not fit");
    buf[n] = 0;
    int fds[3], nfds = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
            for (size_t k = 0; k < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int) && nfds < 3; k++)
                memcpy(&fds[nfds++], CMSG_DATA(c) + k * sizeof(int), sizeof(int));

    /* The strings, in order; a count that does not match what follows is cordon's mistake, and fatal. */
    char *p = buf, *end = buf + n;
    char *field;
    long argc = (field = next_string(&p, end)) ? strtol(field, NULL, 10) : -1;
    if (argc < 1 || argc > MAX_PARKED_ARGS)
        die("bad command line from cordon");
    for (long k = 0; k < argc; k++)
        if (!(args[k] = next_string(&p, end)))
            die("bad command line from cordon");
    args[argc] = NULL;
    long targets = (field = next_string(&p, end)) ? strtol(field, NULL, 10) : -1;
    if (targets != nfds)
        die("bad descriptors from cordon");
    for (int k = 0; k < nfds; k++) { /* out of 0-2 first: with cordon's own 0-2 closed, one may have come as 0 */
        int high = fcntl(fds[k], F_DUPFD_CLOEXEC, 10);
        if (high < 0)
            die("fcntl(F_DUPFD_CLOEXEC)");
        close(fds[k]);
        fds[k] = high;
    }
    for (long k = 0; k < targets; k++) {
        long to = (field = next_string(&p, end)) ? strtol(field, NULL, 10) : -1;
        if (to < 0 || to > 2 || dup2(fds[k], (int)to) < 0)
            die("dup2 of the program's terminal");
    }
    for (int k = 0; k < nfds; k++)
        close(fds[k]);
    size_t e = 0;
    while (e < MAX_PARKED_ENV && (env[e] = next_string(&p, end)))
        e++;
    if (p < end)
        die("the environment from cordon has too many variables");
    env[e] = NULL;
    environ = env;
    return launch((int)argc, args);
}

int main(int argc, char **argv)
{
    if (argc == 2 && !strcmp(argv[1], "--probe"))
        return probe();
    if (argc == 2 && !strcmp(argv[1], "--parked"))
        return parked();
    return launch(argc, argv);
}

static int launch(int argc, char **argv)
{
    pid_t expected_parent = 0;
    int ctty = 0, listener_wanted = 1, view = 0, i = 1;
    long uid = -1, gid = -1;
    int umask_wanted = -1;
    int keep_caps_given = 0;
    unsigned long long keep_caps = 0;
    for (; i < argc && strcmp(argv[i], "--"); i++) {
        if (!strcmp(argv[i], "--ppid") && i + 1 < argc)
            expected_parent = (pid_t)atoi(argv[++i]);
        else if (!strcmp(argv[i], "--ctty"))
            ctty = 1;
        else if (!strcmp(argv[i], "--no-listener"))
            listener_wanted = 0;
        else if (!strcmp(argv[i], "--view"))
            view = 1;
        else if (!strcmp(argv[i], "--reaper-delay-ms") && i + 1 < argc && sscanf(argv[i + 1], "%d", &reaper_delay_ms) == 1 &&
                 reaper_delay_ms >= 0 && reaper_delay_ms <= 60000)
            i++;
        else if (!strcmp(argv[i], "--user") && i + 1 < argc && sscanf(argv[i + 1], "%ld:%ld", &uid, &gid) == 2)
            i++;
        else if (!strcmp(argv[i], "--umask") && i + 1 < argc && sscanf(argv[i + 1], "%o", &umask_wanted) == 1 &&
                 umask_wanted >= 0 && umask_wanted <= 0777)
            i++;
        else if (!strcmp(argv[i], "--keep-caps") && i + 1 < argc && sscanf(argv[i + 1], "%llx", &keep_caps) == 1)
            i++, keep_caps_given = 1;
        else {
            fprintf(stderr, "cordon-launcher: unknown argument %s (this program is started by cordon)\n", argv[i]);
            return 125;
        }
    }
    if (expected_parent <= 0 || i + 2 >= argc) {
        fprintf(stderr, "usage: cordon-launcher --ppid PID [--ctty] [--no-listener] [--view] [--user UID:GID] [--umask OCTAL] [--keep-caps HEX] -- PATH ARGV0 [ARGS...] (started by cordon)\n");
        return 125;
    }
    const char *path = argv[i + 1];
    char **child_argv = &argv[i + 2];
    reporting = 1; /* descriptor 3 is cordon's control socket from here on */

    /* Drop to the user first: a change of credentials clears the parent-death signal set below. */
    if (uid >= 0) {
        if (setgroups(0, NULL) != 0)
            die("setgroups");
        if (setgid((gid_t)gid) != 0)
            die("setgid(%ld)", gid);
        if (setuid((uid_t)uid) != 0)
            die("setuid(%ld)", uid);
    }

    /* Without a mask a root program would keep every capability: refuse rather than guess (fail closed). */
    if (geteuid() == 0 && !keep_caps_given) {
        fprintf(stderr, "cordon-launcher: --keep-caps is required for a program that runs as root\n");
        return 125;
    }
    if (keep_caps_given && !view)
        limit_capabilities((uint64_t)keep_caps, 0); /* in the view: after the mounts (a new user namespace resets the sets) */

    /* Die with cordon; if it is already gone, never run unsupervised. */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0)
        die("prctl(PR_SET_PDEATHSIG)");
    if (getppid() != expected_parent) {
        fprintf(stderr, "cordon-launcher: cordon exited before the program started\n");
        return 125;
    }
    reset_signals();
    close_inherited_fds();
    if (fcntl(CONTROL_FD, F_SETFD, FD_CLOEXEC) != 0)
        die("fcntl(control socket)");
    if (ctty) {
        if (setsid() < 0)
            die("setsid");
        if (ioctl(0, TIOCSCTTY, 0) != 0)
            die("ioctl(TIOCSCTTY)");
    }
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        die("prctl(PR_SET_NO_NEW_PRIVS)");
    if (view)
        view_start(keep_caps_given ? (uint64_t)keep_caps : 0);
    int landlock_abi = join_landlock_domain();

    static unsigned char filter[MAX_FILTER];
    ssize_t n = recv(CONTROL_FD, filter, sizeof filter, 0);
    if (n <= 0 || n % 8 != 0) {
        if (n < 0)
            die("receive filter");
        fprintf(stderr, "cordon-launcher: bad filter from cordon (%zd bytes)\n", n);
        return 125;
    }
    int listener = install_filter(filter, (size_t)n, listener_wanted);

    /* From here on sendmsg is trapped by the filter just installed, and nobody holds the listener yet: passing it
     * with SCM_RIGHTS would wait forever. cordon takes it with pidfd_getfd (we are its child and dumpable). */
    if (reaper_turn >= 0) {
        char b;
        while (read(reaper_turn, &b, 1) < 0 && errno == EINTR)
            ;
        close(reaper_turn);
        reaper_turn = -1;
    }
    say("ready %d %d", listener, landlock_abi);
    reporting = 0;
    char go[8];
    ssize_t g = recv(CONTROL_FD, go, sizeof go, 0);
    if (g != 2 || memcmp(go, "go", 2) != 0) {
        fprintf(stderr, "cordon-launcher: cordon did not start the program\n");
        return 125;
    }
    if (listener >= 0)
        close(listener);

    /* Orphaned grandchildren come to us, not to init, so that the whole sandbox can be reaped and killed. */
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0)
        die("prctl(PR_SET_CHILD_SUBREAPER)");
    pid_t reaper = getpid();
    pid_t child = fork();
    if (child < 0)
        die("fork");
    if (child > 0 && ctty)
        setpgid(child, child); /* also here, so that it holds whichever of the two runs first */
    if (child == 0) {
        /* The program dies with the reaper, and lives in a Landlock domain nested in the reaper's: from here on
         * nothing it starts can signal, stop, trace, or read the memory, environment or descriptors of the reaper
         * (which holds cordon's control socket), while the reaper can still kill all of it. */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0)
            die("prctl(PR_SET_PDEATHSIG)");
        if (getppid() != reaper)
            _exit(125);
        if (landlock_abi > 0 && join_landlock_domain() != landlock_abi)
            die("nested Landlock domain");
        if (umask_wanted >= 0)
            umask((mode_t)umask_wanted);
        if (ctty) {
            /* The program leads its own process group, in the foreground of cordon's pseudo-terminal. In our group
             * (whose parent, cordon, is in another session) it would be orphaned, and the kernel discards Ctrl-Z
             * for orphaned groups (kernel/signal.c, do_signal_stop). */
            if (setpgid(0, 0) != 0)
                die("setpgid");
            signal(SIGTTOU, SIG_IGN);
            if (tcsetpgrp(0, getpid()) != 0)
                die("tcsetpgrp");
            signal(SIGTTOU, SIG_DFL);
        }
        execv(path, child_argv); /* execve is trapped: cordon decides it */
        int e = errno;
        say("execfail %d", e);
        _exit(e == ENOENT ? 127 : 126);
    }
    /* The reaper: signals arrive through a signalfd; SIGTERM is its parent-death signal (cordon died). The
     * terminal's job-control and interrupt signals are for the program, which decides what Ctrl-C does. */
    static const int ignored[] = {SIGINT, SIGQUIT, SIGTSTP, SIGTTIN, SIGTTOU, SIGHUP, SIGPIPE};
    for (size_t k = 0; k < sizeof ignored / sizeof ignored[0]; k++)
        signal(ignored[k], SIG_IGN);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGTERM);
    if (sigprocmask(SIG_BLOCK, &set, NULL) != 0)
        die("sigprocmask");
    int signals = signalfd(-1, &set, SFD_CLOEXEC);
    if (signals < 0)
        die("signalfd");
    if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0)
        die("prctl(PR_SET_PDEATHSIG)");
    /* In the view our parent is the outer launcher, invisible from this pid namespace (getppid() says 0); its death
     * was covered by the parent-death signal all along, which this only changes from SIGKILL to SIGTERM. */
    if (!view && getppid() != expected_parent)
        kill(getpid(), SIGTERM);
    return reap(child, landlock_abi, signals);
}
