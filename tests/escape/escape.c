/*
 * Attacks against cordon's seccomp engine. Each subcommand tries one way out and reports:
 *   exit 0  "stopped: ..."  the attack failed (what cordon promises)
 *   exit 1  "ESCAPED: ..."  the attack got through
 *   exit 2  "setup: ..."    the test itself could not run
 * The kernel tests run these under cordon with a planted secret and also assert that the secret's content never
 * appears in the output. Build: cc -O2 -pthread -o escape escape.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <linux/filter.h>
#include <linux/openat2.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#define STOPPED(...) do { printf("stopped: " __VA_ARGS__); printf("\n"); return 0; } while (0)
#define ESCAPED(...) do { printf("ESCAPED: " __VA_ARGS__); printf("\n"); return 1; } while (0)
#define SETUP(...) do { printf("setup: " __VA_ARGS__); printf("\n"); return 2; } while (0)

/* Reads a file; returns bytes read or -errno. Leaves content in buf. */
static int slurp(const char *path, char *buf, size_t size)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -errno;
    ssize_t n = read(fd, buf, size - 1);
    int e = errno;
    close(fd);
    if (n < 0)
        return -e;
    buf[n] = 0;
    return (int)n;
}

static int read_via(const char *what, const char *path)
{
    char buf[4096];
    int n = slurp(path, buf, sizeof buf);
    if (n >= 0)
        ESCAPED("%s: read %d bytes: %s", what, n, buf);
    STOPPED("%s: %s", what, strerror(-n));
}

/* ---- path swapped by a second thread while the first opens it ---- */
static char race_path[4096];
static const char *race_allowed, *race_secret;
static atomic_int race_stop;

static void *flipper(void *arg)
{
    (void)arg;
    while (!atomic_load(&race_stop)) {
        strcpy(race_path, race_secret);
        strcpy(race_path, race_allowed);
    }
    return NULL;
}

static int swap_race(const char *allowed, const char *secret, const char *marker, long tries)
{
    race_allowed = allowed;
    race_secret = secret;
    strcpy(race_path, allowed);
    pthread_t t;
    if (pthread_create(&t, NULL, flipper, NULL) != 0)
        SETUP("pthread_create");
    long leaks = 0, opened = 0;
    char buf[4096];
    for (long i = 0; i < tries; i++) {
        int fd = open(race_path, O_RDONLY);
        if (fd < 0)
            continue;
        opened++;
        ssize_t n = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (n > 0) {
            buf[n] = 0;
            if (strstr(buf, marker))
                leaks++;
        }
    }
    atomic_store(&race_stop, 1);
    pthread_join(t, NULL);
    if (leaks)
        ESCAPED("swap race: %ld of %ld opens returned the secret", leaks, tries);
    STOPPED("swap race: 0 leaks in %ld tries (%ld opens of the allowed file)", tries, opened);
}


/* exec-swap: a thread flips the path execve reads between an allowed program and a denied one. */
static char exec_path[4096];
static const char *exec_allowed, *exec_denied;
static void *exec_flipper(void *arg)
{
    (void)arg;
    while (!atomic_load(&race_stop)) {
        strcpy(exec_path, exec_denied);
        strcpy(exec_path, exec_allowed);
    }
    return NULL;
}

/* bind-chmod-race: cordon binds a Unix socket for the caller, then gives the new file the caller's umask. A thread
 * replaces the new socket with a symlink to the secret in between, hoping that the mode change follows it. */
static char bind_path[4096];
static void *bind_swapper(void *arg)
{
    (void)arg;
    while (!atomic_load(&race_stop)) {
        unlink(bind_path);
        symlink(race_secret, bind_path);
    }
    return NULL;
}

static int bind_chmod_race(const char *secret, const char *dir, long tries)
{
    struct stat before, now;
    if (stat(secret, &before) != 0)
        SETUP("stat %s: %s", secret, strerror(errno));
    umask(0); /* cordon would give the socket 0777: a mode the secret surely does not have */
    race_secret = secret;
    snprintf(bind_path, sizeof bind_path, "%s/sock", dir);
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (strlen(bind_path) >= sizeof addr.sun_path)
        SETUP("path too long for a socket: %s", bind_path);
    strcpy(addr.sun_path, bind_path);
    pthread_t t;
    if (pthread_create(&t, NULL, bind_swapper, NULL) != 0)
        SETUP("pthread_create");
    long bound = 0, changed = 0;
    for (long i = 0; i < tries && !changed; i++) {
        int s = socket(AF_UNIX, SOCK_STREAM, 0);
        if (s < 0)
            continue;
        if (bind(s, (struct sockaddr *)&addr, sizeof addr) == 0)
            bound++;
        close(s);
        if (stat(secret, &now) == 0 && now.st_mode != before.st_mode)
            changed = 1;
    }
    atomic_store(&race_stop, 1);
    pthread_join(t, NULL);
    if (changed)
        ESCAPED("bind/chmod race: the secret's mode went from %o to %o", before.st_mode & 07777, now.st_mode & 07777);
    STOPPED("bind/chmod race: the secret's mode stayed %o (%ld binds in %ld tries)", before.st_mode & 07777, bound, tries);
}

/* connect-swap: a thread flips the port of the address connect reads. */
static struct sockaddr_in conn_addr;
static unsigned short conn_allowed, conn_denied;
static void *conn_flipper(void *arg)
{
    (void)arg;
    while (!atomic_load(&race_stop)) {
        conn_addr.sin_port = htons(conn_denied);
        conn_addr.sin_port = htons(conn_allowed);
    }
    return NULL;
}

static void *open_hammer(void *arg)
{
    const char *path = arg;
    long bad = 0;
    for (int i = 0; i < 10000; i++) {
        int fd = open(path, O_RDONLY);
        if (fd < 0)
            bad++;
        else
            close(fd);
    }
    return (void *)bad;
}

static int raw_syscall_result(long r, const char *what)
{
    if (r >= 0)
        ESCAPED("%s succeeded", what);
    STOPPED("%s: %s", what, strerror(errno));
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc < 2)
        SETUP("usage: escape ATTACK ARGS...");
    const char *a = argv[1];

    if (!strcmp(a, "read") && argc == 3) /* plain read of the secret */
        return read_via("plain read", argv[2]);

    if (!strcmp(a, "symlink") && argc == 4) { /* symlink in an allowed dir pointing at the secret */
        if (symlink(argv[2], argv[3]) != 0)
            SETUP("symlink: %s", strerror(errno));
        return read_via("read through symlink", argv[3]);
    }

    if (!strcmp(a, "hardlink") && argc == 4) { /* hard link the secret into an allowed dir */
        if (link(argv[2], argv[3]) != 0)
            STOPPED("link refused: %s", strerror(errno));
        return read_via("read through hard link", argv[3]);
    }

    if (!strcmp(a, "rename") && argc == 4) { /* move the secret into an allowed dir */
        if (rename(argv[2], argv[3]) != 0)
            STOPPED("rename refused: %s", strerror(errno));
        return read_via("read after rename", argv[3]);
    }

    if (!strcmp(a, "proc-root") && argc == 3) { /* /proc/self/root/<secret> */
        char p[4200];
        snprintf(p, sizeof p, "/proc/self/root%s", argv[2]);
        return read_via("/proc/self/root", p);
    }

    if (!strcmp(a, "opath-reopen") && argc == 3) { /* O_PATH (not decided) then reopen via /proc/self/fd */
        int fd = open(argv[2], O_PATH);
        if (fd < 0)
            STOPPED("O_PATH open refused: %s", strerror(errno));
        char p[64];
        snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
        int r = read_via("/proc/self/fd reopen", p);
        if (r)
            return r;
        snprintf(p, sizeof p, "/dev/fd/%d", fd);
        return read_via("/dev/fd reopen", p);
    }

    if (!strcmp(a, "dirfd") && argc == 4) { /* openat relative to an O_PATH dirfd of the secret's folder */
        int d = open(argv[2], O_PATH | O_DIRECTORY);
        if (d < 0)
            STOPPED("dir open refused: %s", strerror(errno));
        int fd = openat(d, argv[3], O_RDONLY);
        if (fd >= 0) {
            char buf[256];
            ssize_t n = read(fd, buf, sizeof buf - 1);
            ESCAPED("openat(dirfd) read %zd bytes", n);
        }
        int e = errno;
        if (chdir(argv[2]) == 0)
            return read_via("relative open after chdir", argv[3]);
        STOPPED("openat(dirfd): %s", strerror(e));
    }

    if (!strcmp(a, "swap-race") && argc == 6)
        return swap_race(argv[2], argv[3], argv[4], atol(argv[5]));

    if (!strcmp(a, "bind-chmod-race") && argc == 5)
        return bind_chmod_race(argv[2], argv[3], atol(argv[4]));

    if (!strcmp(a, "io-uring")) {
        char params[120] = {0};
        return raw_syscall_result(syscall(425 /* io_uring_setup */, 8, params), "io_uring_setup");
    }

    if (!strcmp(a, "int80")) { /* the 32-bit entry point: getpid = 20 there */
        long r;
        __asm__ volatile("int $0x80" : "=a"(r) : "a"(20L) : "memory");
        ESCAPED("int 0x80 returned %ld", r);
    }

    if (!strcmp(a, "x32")) { /* x32 ABI: bit 30 set on the number */
        long r = syscall(0x40000000L | SYS_getpid);
        ESCAPED("x32 getpid returned %ld", r);
    }

    if (!strcmp(a, "bind-mount") && argc == 4) {
        /* In a private user and mount namespace, bind the secret's folder over an allowed one: an engine that
         * decides on the path it sees (d_path in the caller's namespace) would then see an allowed path. */
        if (unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0 && geteuid() != 0) /* root needs no namespace to mount */
            STOPPED("unshare(CLONE_NEWUSER | CLONE_NEWNS): %s", strerror(errno));
        if (mount(argv[2], argv[3], NULL, MS_BIND, NULL) != 0)
            STOPPED("bind mount: %s", strerror(errno));
        char path[4096];
        snprintf(path, sizeof path, "%s/id_rsa", argv[3]);
        return read_via("through the bind mount", path);
    }

    if (!strcmp(a, "userns")) {
        if (unshare(CLONE_NEWUSER) == 0)
            ESCAPED("unshare(CLONE_NEWUSER) succeeded");
        int e1 = errno;
        if (unshare(CLONE_NEWNS) == 0)
            ESCAPED("unshare(CLONE_NEWNS) succeeded");
        /* clone3 must look absent so that glibc falls back to clone, whose flags the filter sees */
        long r = syscall(SYS_clone3, NULL, 0);
        if (r >= 0 || errno != ENOSYS)
            ESCAPED("clone3 did not answer ENOSYS (%s)", strerror(errno));
        STOPPED("unshare: %s; clone3: ENOSYS", strerror(e1));
    }

    if (!strcmp(a, "supervisor") && argc == 3) { /* signal, ptrace, read memory of, or steal fds from cordon */
        pid_t p = (pid_t)atoi(argv[2]);
        if (!strcmp(argv[2], "grandparent")) { /* cordon is the parent of the sandbox root, our parent */
            char path[64], buf[512];
            snprintf(path, sizeof path, "/proc/%d/stat", (int)getppid());
            /* The view engine: our parent is the first process of a pid namespace (hidden from us), cordon is
             * outside it and has no pid here. */
            if (slurp(path, buf, sizeof buf) < 0 && getppid() == 1)
                STOPPED("the sandbox's root is pid 1 of its own pid namespace: cordon cannot be named from here");
            if (slurp(path, buf, sizeof buf) < 0)
                SETUP("cannot read %s", path);
            char *close_paren = strrchr(buf, ')');
            if (!close_paren || sscanf(close_paren + 2, "%*c %d", &p) != 1)
                SETUP("cannot parse %s", path);
            if (p == 0 && getppid() == 1)
                STOPPED("the sandbox's root is pid 1 of its own pid namespace: cordon cannot be named from here");
        }
        if (kill(p, 0) == 0)
            ESCAPED("kill(cordon, 0) succeeded");
        int e = errno;
        if (ptrace(PTRACE_ATTACH, p, 0, 0) == 0)
            ESCAPED("ptrace attach to cordon succeeded");
        char buf[16];
        struct iovec l = {buf, sizeof buf}, r = {(void *)0x400000, sizeof buf};
        if (process_vm_readv(p, &l, 1, &r, 1, 0) >= 0)
            ESCAPED("process_vm_readv of cordon succeeded");
        int pfd = (int)syscall(SYS_pidfd_open, p, 0);
        if (pfd >= 0) {
            if (syscall(SYS_pidfd_getfd, pfd, 0, 0) >= 0)
                ESCAPED("pidfd_getfd from cordon succeeded");
            if (syscall(SYS_pidfd_send_signal, pfd, SIGKILL, NULL, 0) == 0)
                ESCAPED("pidfd_send_signal to cordon succeeded");
        }
        STOPPED("kill: %s; ptrace, process_vm_readv, pidfd_getfd refused", strerror(e));
    }

    if (!strcmp(a, "new-listener")) { /* our own listener would receive cordon's notifications */
        struct sock_filter f[] = {BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
        struct sock_fprog prog = {1, f};
        prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
        return raw_syscall_result(syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog),
                                  "seccomp(NEW_LISTENER)");
    }

    if (!strcmp(a, "tiocsti")) { /* push a command into the terminal's input */
        char c = '#';
        return raw_syscall_result(ioctl(0, TIOCSTI, &c), "ioctl(TIOCSTI)");
    }

    if (!strcmp(a, "nondumpable") && argc == 3) { /* hide our memory from cordon, then open */
        prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
        return read_via("read while non-dumpable", argv[2]);
    }

    if (!strcmp(a, "write") && argc == 3) { /* create or overwrite a file */
        int fd = open(argv[2], O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd < 0)
            STOPPED("open for writing: %s", strerror(errno));
        if (write(fd, "pwned\n", 6) == 6)
            ESCAPED("appended to %s", argv[2]);
        STOPPED("write: %s", strerror(errno));
    }


    if (!strcmp(a, "openat2") && argc == 3) { /* openat2 with each RESOLVE flag */
        unsigned long long flags[] = {0, RESOLVE_NO_MAGICLINKS, RESOLVE_NO_SYMLINKS, RESOLVE_NO_XDEV, RESOLVE_CACHED};
        for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
            struct open_how how = {.flags = O_RDONLY, .resolve = flags[i]};
            int fd = (int)syscall(SYS_openat2, AT_FDCWD, argv[2], &how, sizeof how);
            if (fd >= 0) {
                char buf[256];
                ssize_t n = read(fd, buf, sizeof buf);
                ESCAPED("openat2 resolve=%llx read %zd bytes", flags[i], n);
            }
        }
        STOPPED("openat2 refused with every RESOLVE flag");
    }

    if (!strcmp(a, "shm-swap") && argc == 6) { /* another process rewrites the path in shared memory during open */
        char *shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (shared == MAP_FAILED)
            SETUP("mmap: %s", strerror(errno));
        const char *allowed = argv[2], *secret = argv[3], *marker = argv[4];
        long tries = atol(argv[5]);
        strcpy(shared, allowed);
        pid_t child = fork();
        if (child == 0) {
            for (;;) {
                strcpy(shared, secret);
                strcpy(shared, allowed);
            }
        }
        long leaks = 0, opened = 0;
        for (long i = 0; i < tries; i++) {
            char buf[512];
            int fd = open(shared, O_RDONLY);
            if (fd < 0)
                continue;
            opened++;
            ssize_t n = read(fd, buf, sizeof buf - 1);
            close(fd);
            if (n > 0) {
                buf[n] = 0;
                if (strstr(buf, marker))
                    leaks++;
            }
        }
        kill(child, SIGKILL);
        waitpid(child, NULL, 0);
        if (leaks)
            ESCAPED("%ld of %ld opens returned the secret", leaks, tries);
        STOPPED("0 leaks in %ld tries (%ld opens succeeded)", tries, opened);
    }

    if (!strcmp(a, "exec-swap") && argc == 6) { /* a thread swaps the program path while execve runs */
        exec_allowed = argv[2];
        exec_denied = argv[3];
        const char *proof = argv[4]; /* the denied program (a copy of this one) would create it */
        long tries = atol(argv[5]);
        strcpy(exec_path, exec_allowed);
        pthread_t t;
        pthread_create(&t, NULL, exec_flipper, NULL);
        long killed = 0;
        for (long i = 0; i < tries; i++) {
            pid_t c = fork();
            if (c == 0) {
                char *args[] = {(char *)"escape", (char *)"write", (char *)proof, NULL};
                execv(exec_path, args);
                _exit(120);
            }
            int st;
            waitpid(c, &st, 0);
            if (WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL)
                killed++; /* the swap won the race, and cordon caught the wrong image at its first trapped call */
        }
        atomic_store(&race_stop, 1);
        pthread_join(t, NULL);
        if (access(proof, F_OK) == 0)
            ESCAPED("the denied program ran and wrote %s", proof);
        STOPPED("the denied program never did anything in %ld execs (%ld caught and killed)", tries, killed);
    }

    if (!strcmp(a, "connect-swap") && argc == 5) { /* a thread swaps the port while connect runs */
        conn_allowed = (unsigned short)atoi(argv[2]);
        conn_denied = (unsigned short)atoi(argv[3]);
        long tries = atol(argv[4]);
        conn_addr.sin_family = AF_INET;
        conn_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        conn_addr.sin_port = htons(conn_allowed);
        pthread_t t;
        pthread_create(&t, NULL, conn_flipper, NULL);
        long ok = 0;
        for (long i = 0; i < tries; i++) {
            int s = socket(AF_INET, SOCK_STREAM, 0);
            if (connect(s, (struct sockaddr *)&conn_addr, sizeof conn_addr) == 0)
                ok++;
            close(s);
        }
        atomic_store(&race_stop, 1);
        pthread_join(t, NULL);
        STOPPED("%ld of %ld connects succeeded (the test server counts what reached the denied port)", ok, tries);
    }

    if (!strcmp(a, "outside") && argc == 3) { /* a process outside the sandbox: signal, trace, read it */
        pid_t p = (pid_t)atoi(argv[2]);
        if (kill(p, 0) == 0)
            ESCAPED("kill(outside, 0) succeeded");
        int e = errno;
        if (ptrace(PTRACE_ATTACH, p, 0, 0) == 0)
            ESCAPED("ptrace attach succeeded");
        char buf[16];
        struct iovec l = {buf, sizeof buf}, r = {(void *)0x400000, sizeof buf};
        if (process_vm_readv(p, &l, 1, &r, 1, 0) >= 0)
            ESCAPED("process_vm_readv succeeded");
        int pfd = (int)syscall(SYS_pidfd_open, p, 0);
        if (pfd >= 0 && syscall(SYS_pidfd_send_signal, pfd, SIGKILL, NULL, 0) == 0)
            ESCAPED("pidfd_send_signal succeeded");
        STOPPED("kill: %s; ptrace, process_vm_readv, pidfd_send_signal refused", strerror(e));
    }

    if (!strcmp(a, "fds")) { /* descriptors inherited from cordon */
        DIR *d = opendir("/proc/self/fd");
        if (!d)
            SETUP("opendir: %s", strerror(errno));
        struct dirent *e;
        int extra = 0;
        while ((e = readdir(d)) != NULL) {
            int fd = atoi(e->d_name);
            if (e->d_name[0] == '.' || fd <= 2 || fd == dirfd(d))
                continue;
            char p[64], target[256] = "";
            snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
            ssize_t n = readlink(p, target, sizeof target - 1);
            if (n > 0)
                target[n] = 0;
            printf("inherited fd %d -> %s\n", fd, target);
            extra++;
        }
        closedir(d);
        if (extra)
            ESCAPED("%d descriptors inherited beyond 0, 1, 2", extra);
        STOPPED("only 0, 1 and 2 are open");
    }

    if (!strcmp(a, "memfd-exec") && argc == 3) { /* copy a program into memory and run it from there */
        int src = open(argv[2], O_RDONLY);
        if (src < 0)
            SETUP("open %s: %s", argv[2], strerror(errno));
        int m = (int)syscall(SYS_memfd_create, "payload", 0);
        if (m < 0)
            STOPPED("memfd_create: %s", strerror(errno));
        char buf[65536];
        ssize_t n;
        while ((n = read(src, buf, sizeof buf)) > 0)
            if (write(m, buf, (size_t)n) != n)
                SETUP("write memfd");
        pid_t c = fork();
        if (c == 0) {
            char *args[] = {(char *)"payload", NULL};
            char *env[] = {NULL};
            syscall(SYS_execveat, m, "", args, env, AT_EMPTY_PATH);
            printf("stopped: execveat(memfd): %s\n", strerror(errno));
            _exit(42);
        }
        int st;
        waitpid(c, &st, 0);
        if (WIFEXITED(st) && WEXITSTATUS(st) == 42)
            return 0;
        ESCAPED("the program copied into a memfd ran (status %d)", st);
    }

    if (!strcmp(a, "sendmsg-udp") && argc == 3) { /* a datagram with an address in sendmsg, no connect */
        int s = socket(AF_INET, SOCK_DGRAM, 0);
        struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(argv[2])), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        char payload[] = "exfil";
        struct iovec iov = {payload, sizeof payload - 1};
        struct msghdr mh = {.msg_name = &to, .msg_namelen = sizeof to, .msg_iov = &iov, .msg_iovlen = 1};
        if (sendmsg(s, &mh, 0) >= 0)
            ESCAPED("sendmsg to port %s went out", argv[2]);
        int e = errno;
        struct mmsghdr mm = {.msg_hdr = mh};
        if (syscall(SYS_sendmmsg, s, &mm, 1, 0) > 0)
            ESCAPED("sendmmsg went out");
        int t = socket(AF_INET, SOCK_STREAM, 0);
        if (sendto(t, payload, 5, MSG_FASTOPEN, (struct sockaddr *)&to, sizeof to) >= 0)
            ESCAPED("TCP fast open sendto went out");
        STOPPED("sendmsg: %s; sendmmsg and MSG_FASTOPEN refused", strerror(e));
    }

    if (!strcmp(a, "fork-many") && argc == 3) { /* many processes that stay behind */
        int n = atoi(argv[2]), made = 0;
        for (int i = 0; i < n; i++) {
            pid_t c = fork();
            if (c == 0) {
                setsid(); /* leave the process group: only the sandbox-wide kill reaches it */
                pause();
                _exit(0);
            }
            if (c > 0)
                made++;
        }
        printf("stopped: started %d lingering processes (the test checks none survives cordon)\n", made);
        return 0;
    }

    if (!strcmp(a, "fork-bomb") && argc == 3) { /* a tree of processes forking as fast as they can */
        int depth = atoi(argv[2]);
        pid_t root = getpid();
        for (int level = 0; level < depth; level++) {
            pid_t c1 = fork();
            pid_t c2 = c1 > 0 ? fork() : 0;
            if (c1 > 0 && c2 > 0) {
                if (getpid() != root)
                    pause(); /* an inner node: stays behind */
                break;
            }
            /* a child goes on one level deeper (fork failures just stop the branch) */
            if (c1 < 0 || c2 < 0)
                break;
        }
        if (getpid() != root)
            pause();
        sleep(2);
        int fd = open("/proc/self/status", O_RDONLY); /* cordon still answers */
        if (fd < 0)
            SETUP("cordon stopped answering after the bomb: %s", strerror(errno));
        printf("stopped: the bomb went off (depth %d) and cordon still answers\n", depth);
        return 0;
    }

    if (!strcmp(a, "threads") && argc == 4) { /* many threads opening at once */
        int n = atoi(argv[3]);
        pthread_t ts[256];
        if (n > 256)
            SETUP("at most 256 threads");
        for (int i = 0; i < n; i++)
            pthread_create(&ts[i], NULL, open_hammer, argv[2]);
        long bad = 0;
        for (int i = 0; i < n; i++) {
            void *r;
            pthread_join(ts[i], &r);
            bad += (long)r;
        }
        if (bad)
            SETUP("%ld opens of an allowed file failed", bad);
        printf("stopped: %d threads x 10000 opens all answered\n", n);
        return 0;
    }

    SETUP("unknown attack or wrong arguments: %s", a);
}
