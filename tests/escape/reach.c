/*
 * Attacks on processes the program did not start: cordon's reaper (the launcher, the program's parent inside the
 * sandbox), cordon itself, other processes of the user; and privilege left behind in files. Same conventions as
 * escape.c:
 *   exit 0  "stopped: ..."  the attack failed (what cordon promises)
 *   exit 1  "ESCAPED: ..."  the attack got through
 *   exit 2  "setup: ..."    the test itself could not run
 * A PID argument of "parent" means getppid(). Build: cc -O2 -o reach reach.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <termios.h>
#include <unistd.h>

#define STOPPED(...) do { printf("stopped: " __VA_ARGS__); printf("\n"); return 0; } while (0)
#define ESCAPED(...) do { printf("ESCAPED: " __VA_ARGS__); printf("\n"); return 1; } while (0)
#define SETUP(...) do { printf("setup: " __VA_ARGS__); printf("\n"); return 2; } while (0)

/* Field N (1-based, as in proc(5)) of /proc/PID/stat, a public entry; 0 when it cannot be read. The name (field 2)
 * may hold spaces and parentheses: fields are counted from its closing parenthesis. */
static unsigned long stat_field(pid_t pid, int n)
{
    char path[64], buf[4096];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return 0;
    ssize_t len = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (len <= 0)
        return 0;
    buf[len] = 0;
    char *p = strrchr(buf, ')');
    if (!p)
        return 0;
    int field = 2;
    for (char *t = strtok(p + 1, " "); t; t = strtok(NULL, " "))
        if (++field == n)
            return strtoul(t, NULL, 10);
    return 0;
}

/* "parent": the reaper (the program's parent); "cordon": the reaper's parent; else a number. */
static pid_t target_of(const char *s)
{
    if (!strcmp(s, "parent"))
        return getppid();
    if (!strcmp(s, "cordon")) {
        pid_t p = (pid_t)stat_field(getppid(), 4); /* PPid */
        if (p <= 1 && getppid() == 1) {
            /* The view engine: the program's parent is the first process of a pid namespace, and cordon is outside. */
            printf("stopped: cordon is not in the sandbox's pid namespace: it cannot be named from here\n");
            exit(0);
        }
        if (p <= 1) {
            printf("setup: cannot find cordon's pid\n");
            exit(2);
        }
        return p;
    }
    pid_t n = (pid_t)atoi(s);
    if (n > 0 && kill(n, 0) != 0 && errno == ESRCH) {
        printf("stopped: pid %d is not visible from the sandbox (another pid namespace)\n", (int)n);
        exit(0);
    }
    return n;
}

/* env_start (field 48): where the target's environment lies in its memory. */
static unsigned long env_start(pid_t pid) { return stat_field(pid, 48); }

/* Prints what came out (the kernel tests look for the secret in the output). */
static void show(const char *what, const char *buf, ssize_t n)
{
    printf("%s gave %zd bytes: ", what, n);
    for (ssize_t i = 0; i < n && i < 4000; i++)
        putchar(buf[i] ? buf[i] : '\n');
    printf("\n");
}

static int proc_entry(pid_t pid, const char *entry)
{
    char path[96], buf[8192];
    snprintf(path, sizeof path, "/proc/%d/%.60s", (int)pid, entry);
    if (!strcmp(entry, "cwd") || !strcmp(entry, "root") || !strcmp(entry, "exe")) {
        ssize_t n = readlink(path, buf, sizeof buf - 1);
        if (n < 0)
            STOPPED("readlink %s: %s", path, strerror(errno));
        ESCAPED("readlink %s gave %.*s", path, (int)n, buf);
    }
    if (!strcmp(entry, "fd")) {
        int d = open(path, O_RDONLY | O_DIRECTORY);
        if (d < 0) {
            char link[128];
            snprintf(link, sizeof link, "%s/3", path);
            ssize_t n = readlink(link, buf, sizeof buf - 1);
            if (n < 0)
                STOPPED("open %s: %s; readlink %s: %s", path, strerror(errno), link, strerror(errno));
            ESCAPED("readlink %s gave %.*s", link, (int)n, buf);
        }
        close(d);
        ESCAPED("listed %s", path);
    }
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        STOPPED("open %s: %s", path, strerror(errno));
    ssize_t n;
    if (!strcmp(entry, "mem")) {
        unsigned long at = env_start(pid);
        n = at ? pread(fd, buf, sizeof buf, (off_t)at) : -1;
        if (n < 0)
            ESCAPED("opened %s (pread at %#lx: %s)", path, at, strerror(errno));
    } else {
        n = read(fd, buf, sizeof buf);
    }
    close(fd);
    if (n < 0)
        STOPPED("read %s: %s", path, strerror(errno));
    show(path, buf, n);
    if (!strcmp(entry, "cmdline"))
        STOPPED("cmdline is public; the tests check it holds nothing secret");
    ESCAPED("read %s", path);
}

static int vm_read(pid_t pid)
{
    char buf[4096];
    /* The kernel shows env_start only to a process that may ptrace the target; without it, any address tells
     * whether access is granted: EPERM is the refusal, EFAULT means the memory was open to us. */
    unsigned long at = env_start(pid);
    struct iovec local = {buf, sizeof buf}, remote = {(void *)(at ? at : 0x10000), sizeof buf};
    ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
    if (n < 0 && errno == EFAULT)
        ESCAPED("process_vm_readv of pid %d was allowed (EFAULT at %#lx)", (int)pid, at ? at : 0x10000UL);
    if (n < 0)
        STOPPED("process_vm_readv: %s", strerror(errno));
    show("process_vm_readv", buf, n);
    ESCAPED("process_vm_readv read %zd bytes of pid %d", n, (int)pid);
}

static int attach(pid_t pid)
{
    if (ptrace(PTRACE_SEIZE, pid, 0, 0) != 0)
        STOPPED("PTRACE_SEIZE: %s", strerror(errno));
    ptrace(PTRACE_DETACH, pid, 0, 0);
    ESCAPED("seized pid %d", (int)pid);
}

static int getfd(pid_t pid, int fd)
{
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (pidfd < 0 && (errno == EPERM || errno == EACCES))
        STOPPED("pidfd_open: %s", strerror(errno));
    if (pidfd < 0)
        SETUP("pidfd_open: %s", strerror(errno));
    int got = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
    if (got < 0)
        STOPPED("pidfd_getfd: %s", strerror(errno));
    /* The reaper's fd 3 is cordon's control socket: a forged "exit 0" would change cordon's exit status. */
    ssize_t w = write(got, "exit 0", 6);
    ESCAPED("took fd %d of pid %d (write: %zd)", fd, (int)pid, w);
}

static int signal_to(pid_t pid, const char *name)
{
    int sig = !strcmp(name, "STOP") ? SIGSTOP : !strcmp(name, "KILL") ? SIGKILL : !strcmp(name, "TERM") ? SIGTERM : 0;
    if (!sig)
        SETUP("signal %s?", name);
    if (kill(pid, sig) != 0)
        STOPPED("kill(%d, SIG%s): %s", (int)pid, name, strerror(errno));
    if (sig == SIGSTOP)
        kill(pid, SIGCONT);
    ESCAPED("sent SIG%s to pid %d", name, (int)pid);
}

/* Each change sets the value the target already has: if it goes through, nothing is harmed but the test fails. */
static int limits(pid_t pid, const char *how)
{
    if (!strcmp(how, "prlimit")) {
        struct rlimit now;
        if (syscall(SYS_prlimit64, pid, RLIMIT_CORE, NULL, &now) != 0)
            STOPPED("prlimit (read): %s", strerror(errno));
        if (syscall(SYS_prlimit64, pid, RLIMIT_CORE, &now, NULL) != 0)
            STOPPED("prlimit (set): %s", strerror(errno));
        ESCAPED("set a limit of pid %d", (int)pid);
    }
    if (!strcmp(how, "nice")) {
        errno = 0;
        int prio = getpriority(PRIO_PROCESS, (id_t)pid);
        if (prio == -1 && errno)
            SETUP("getpriority: %s", strerror(errno));
        if (setpriority(PRIO_PROCESS, (id_t)pid, prio) != 0)
            STOPPED("setpriority: %s", strerror(errno));
        ESCAPED("set the priority of pid %d", (int)pid);
    }
    if (!strcmp(how, "nice-user")) { /* every process of the user at once */
        errno = 0;
        int prio = getpriority(PRIO_USER, 0);
        if (prio == -1 && errno)
            SETUP("getpriority: %s", strerror(errno));
        if (setpriority(PRIO_USER, 0, prio) != 0)
            STOPPED("setpriority(PRIO_USER): %s", strerror(errno));
        ESCAPED("set the priority of every process of the user");
    }
    if (!strcmp(how, "affinity")) {
        cpu_set_t set;
        if (sched_getaffinity(pid, sizeof set, &set) != 0)
            SETUP("sched_getaffinity: %s", strerror(errno));
        if (sched_setaffinity(pid, sizeof set, &set) != 0)
            STOPPED("sched_setaffinity: %s", strerror(errno));
        ESCAPED("set the CPU affinity of pid %d", (int)pid);
    }
    if (!strcmp(how, "ioprio")) {
        long prio = syscall(SYS_ioprio_get, 1 /* IOPRIO_WHO_PROCESS */, pid);
        if (prio < 0)
            SETUP("ioprio_get: %s", strerror(errno));
        if (syscall(SYS_ioprio_set, 1, pid, prio) != 0)
            STOPPED("ioprio_set: %s", strerror(errno));
        ESCAPED("set the I/O priority of pid %d", (int)pid);
    }
    SETUP("limits %s?", how);
}

static int fanotify(const char *dir)
{
    /* FAN_CLASS_NOTIF (0), event fds opened O_RDONLY: root gets a descriptor of every file opened under the mark. */
    int fd = (int)syscall(SYS_fanotify_init, 0, O_RDONLY);
    if (fd < 0)
        STOPPED("fanotify_init: %s", strerror(errno));
    /* FAN_MARK_ADD (1), FAN_OPEN (0x20) | FAN_EVENT_ON_CHILD (0x08000000) */
    if (syscall(SYS_fanotify_mark, fd, 1, 0x20 | 0x08000000ULL, AT_FDCWD, dir) != 0)
        STOPPED("fanotify_mark %s: %s", dir, strerror(errno));
    ESCAPED("watching opens under %s", dir);
}

static int leave_privilege(const char *how, const char *path)
{
    unlink(path);
    if (!strcmp(how, "setuid-chmod") || !strcmp(how, "setgid-chmod")) {
        int fd = open(path, O_CREAT | O_WRONLY, 0755);
        if (fd < 0)
            SETUP("create %s: %s", path, strerror(errno));
        close(fd);
        mode_t bit = how[3] == 'u' ? S_ISUID : S_ISGID;
        int r = chmod(path, 0755 | bit);
        struct stat st;
        if (stat(path, &st) == 0 && (st.st_mode & bit))
            ESCAPED("%s has mode %o", path, st.st_mode & 07777);
        STOPPED("chmod: %s; mode %o", r ? strerror(errno) : "ok", st.st_mode & 07777);
    }
    if (!strcmp(how, "setuid-create")) {
        int fd = open(path, O_CREAT | O_WRONLY | O_EXCL, 04755);
        if (fd < 0 && (errno == EPERM || errno == EACCES))
            STOPPED("a setuid create was refused: %s", strerror(errno));
        if (fd < 0)
            SETUP("create %s: %s", path, strerror(errno));
        struct stat st;
        fstat(fd, &st);
        close(fd);
        if (st.st_mode & (S_ISUID | S_ISGID))
            ESCAPED("%s was created with mode %o", path, st.st_mode & 07777);
        STOPPED("created with mode %o", st.st_mode & 07777);
    }
    if (!strcmp(how, "setcap")) {
        int fd = open(path, O_CREAT | O_WRONLY, 0755);
        if (fd < 0)
            SETUP("create %s: %s", path, strerror(errno));
        close(fd);
        /* struct vfs_cap_data, revision 2: cap_setuid (7) permitted and effective */
        uint32_t cap[5] = {0x02000000 | 1 /* VFS_CAP_REVISION_2 | EFFECTIVE */, 1u << 7, 0, 0, 0};
        if (setxattr(path, "security.capability", cap, sizeof cap, 0) != 0)
            STOPPED("setxattr security.capability: %s", strerror(errno));
        ESCAPED("file capabilities set on %s", path);
    }
    if (!strcmp(how, "mknod")) {
        if (mknod(path, S_IFCHR | 0666, makedev(1, 3)) != 0) /* a copy of /dev/null: harmless if it gets through */
            STOPPED("mknod: %s", strerror(errno));
        ESCAPED("made a character device at %s", path);
    }
    if (!strcmp(how, "chown-other")) {
        int fd = open(path, O_CREAT | O_WRONLY, 0644);
        if (fd < 0)
            SETUP("create %s: %s", path, strerror(errno));
        close(fd);
        if (chown(path, 65534, (gid_t)-1) != 0)
            STOPPED("chown to 65534: %s", strerror(errno));
        ESCAPED("%s now belongs to uid 65534", path);
    }
    SETUP("privilege %s?", how);
}

static int tioccons(void)
{
    int master = posix_openpt(O_RDWR | O_NOCTTY);
    if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0)
        SETUP("posix_openpt: %s", strerror(errno));
    int slave = open(ptsname(master), O_RDWR | O_NOCTTY);
    if (slave < 0)
        SETUP("open %s: %s", ptsname(master), strerror(errno));
    if (ioctl(slave, TIOCCONS) != 0)
        STOPPED("TIOCCONS: %s", strerror(errno));
    ESCAPED("the console now writes to %s", ptsname(master));
}

/* A connected stream's sendmsg whose descriptor number a second thread keeps pointing at an unconnected UDP socket
 * (dup2): if cordon let the kernel perform the call after its check, the kernel would look the number up again and
 * could send the datagram to msg_name, an address nobody decided (a UDP receiver of our own on an ephemeral port,
 * which no rule allows sending to). */
static int swap_fd, swap_stream, swap_udp;
static atomic_int swap_stop;

static void *swapper(void *arg)
{
    (void)arg;
    while (!atomic_load(&swap_stop)) {
        dup2(swap_udp, swap_fd);
        dup2(swap_stream, swap_fd);
    }
    return NULL;
}

static int stream_swap(int tries)
{
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, pair) != 0)
        SETUP("socketpair: %s", strerror(errno));
    int receiver = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in at = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK), .sin_port = 0};
    socklen_t len = sizeof at;
    if (receiver < 0 || bind(receiver, (struct sockaddr *)&at, sizeof at) != 0 || getsockname(receiver, (struct sockaddr *)&at, &len) != 0)
        SETUP("receiver: %s", strerror(errno));
    swap_stream = pair[0];
    swap_udp = socket(AF_INET, SOCK_DGRAM, 0);
    swap_fd = dup(pair[0]);
    pthread_t t;
    pthread_create(&t, NULL, swapper, NULL);
    char payload[] = "undecided-datagram";
    struct iovec iov = {payload, sizeof payload};
    struct msghdr msg = {.msg_name = &at, .msg_namelen = sizeof at, .msg_iov = &iov, .msg_iovlen = 1};
    int got = 0;
    for (int i = 0; i < tries && !got; i++) {
        sendmsg(swap_fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
        char buf[64];
        got = recv(receiver, buf, sizeof buf, MSG_DONTWAIT) > 0;
    }
    atomic_store(&swap_stop, 1);
    pthread_join(t, NULL);
    if (got)
        ESCAPED("a datagram reached 127.0.0.1:%d, which no rule allows", ntohs(at.sin_port));
    STOPPED("no datagram reached the undecided receiver in %d sends", tries);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc < 2)
        SETUP("usage: reach ATTACK ARGS...");
    const char *a = argv[1];
    if (!strcmp(a, "proc") && argc == 4)
        return proc_entry(target_of(argv[2]), argv[3]);
    if (!strcmp(a, "vm-read") && argc == 3)
        return vm_read(target_of(argv[2]));
    if (!strcmp(a, "attach") && argc == 3)
        return attach(target_of(argv[2]));
    if (!strcmp(a, "getfd") && argc == 4)
        return getfd(target_of(argv[2]), atoi(argv[3]));
    if (!strcmp(a, "signal") && argc == 4)
        return signal_to(target_of(argv[2]), argv[3]);
    if (!strcmp(a, "limits") && argc == 4)
        return limits(target_of(argv[2]), argv[3]);
    if (!strcmp(a, "fanotify") && argc == 3)
        return fanotify(argv[2]);
    if (!strcmp(a, "privilege") && argc == 4)
        return leave_privilege(argv[2], argv[3]);
    if (!strcmp(a, "tioccons") && argc == 2)
        return tioccons();
    if (!strcmp(a, "stream-swap") && argc == 3)
        return stream_swap(atoi(argv[2]));
    SETUP("unknown attack %s", a);
}
