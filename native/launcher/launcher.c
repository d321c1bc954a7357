/*
 * cordon-launcher: the only native code of cordon's seccomp engine. It runs between cordon (the supervisor, C#)
 * and the program, where managed code cannot run, and holds NO policy: it sets up the process, installs the filter
 * cordon built, and then either execs the program or reaps the sandbox. Protocol: README.md beside this file.
 *
 *   cordon-launcher --ppid PID [--ctty] [--no-listener] [--user UID:GID] [--umask OCTAL] [--keep-caps HEX]
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
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
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
static void die(const char *what, ...)
{
    int e = errno;
    va_list ap;
    va_start(ap, what);
    fputs("cordon-launcher: ", stderr);
    vfprintf(stderr, what, ap);
    va_end(ap);
    fprintf(stderr, ": %s\n", strerror(e));
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
static void limit_capabilities(uint64_t keep)
{
    if (geteuid() != 0)
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

/* Kills every process of the sandbox. With the Landlock signal scope, kill(-1) reaches exactly the processes of
 * this Landlock domain (and domains nested in it): the scope refuses every signal to a process outside, and
 * kill(-1) skips the caller. Without the scope kill(-1) would hit every process of the user, so then only the
 * program's process group is killed. */
static void kill_sandbox(int landlock_abi, pid_t child)
{
    if (landlock_abi >= 6)
        kill(-1, SIGKILL);
    else if (child > 0)
        kill(-child, SIGKILL), kill(child, SIGKILL);
}

/* Waits for the program; sends its wait status to cordon; then kills and reaps whatever is left of the sandbox.
 * Wakes on SIGCHLD, on SIGTERM (our parent-death signal: cordon died) and on EOF of the control socket. */
static int reap(pid_t child, int landlock_abi, int signals)
{
    /* The reaper runs under cordon's filter too: only untrapped calls from here on (send, kill, wait, poll). */
    say("child %d", (int)child);
    int main_done = 0, cordon_gone = 0;
    while (!main_done && !cordon_gone) {
        int status;
        pid_t p;
        while ((p = waitpid(-1, &status, WNOHANG | WUNTRACED | __WALL)) > 0) {
            if (p == child && WIFSTOPPED(status)) {
                /* Ctrl-Z on cordon's terminal: cordon stops itself so that the user's shell sees a stopped job. */
                say("stop %d", WSTOPSIG(status));
            } else if (p == child) {
                say("exit %d", status);
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
    return main_done ? 0 : 125;
}

/* Tries to install a listener with the given flags in a throwaway child (a process may hold only one listener). */
static int try_listener(unsigned long flags)
{
    pid_t p = fork();
    if (p < 0)
        return 0;
    if (p == 0) {
        struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
        struct sock_fprog prog = {1, &allow};
        prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
        _exit(syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog) < 0 ? 1 : 0);
    }
    int st = 0;
    waitpid(p, &st, 0);
    return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static int probe(void)
{
    long abi = syscall(CORDON_SYS_landlock_create_ruleset, NULL, 0, CORDON_LANDLOCK_CREATE_RULESET_VERSION);
    printf("landlock %ld\n", abi < 0 ? 0 : abi);
    printf("seccomp_notif %s\n", try_listener(SECCOMP_FILTER_FLAG_NEW_LISTENER) ? "ok" : "missing");
    printf("killable_recv %s\n",
           try_listener(SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV) ? "ok" : "missing");
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 2 && !strcmp(argv[1], "--probe"))
        return probe();

    pid_t expected_parent = 0;
    int ctty = 0, listener_wanted = 1, i = 1;
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
        fprintf(stderr, "usage: cordon-launcher --ppid PID [--ctty] [--no-listener] [--user UID:GID] [--umask OCTAL] [--keep-caps HEX] -- PATH ARGV0 [ARGS...] (started by cordon)\n");
        return 125;
    }
    const char *path = argv[i + 1];
    char **child_argv = &argv[i + 2];

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
    if (keep_caps_given)
        limit_capabilities((uint64_t)keep_caps);

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
    say("ready %d %d", listener, landlock_abi);
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
    if (getppid() != expected_parent)
        kill(getpid(), SIGTERM);
    return reap(child, landlock_abi, signals);
}
