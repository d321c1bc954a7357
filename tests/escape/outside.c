/*
 * Attacks that plant code which runs later, outside the sandbox, and that reach daemons acting outside it.
 * Each subcommand tries one write or connect and reports like escape.c:
 *   exit 0  "stopped: ..."  refused (what cordon promises)
 *   exit 1  "ESCAPED: ..."  it went through
 *   exit 2  "setup: ..."    the test itself could not run
 * Build: cc -O2 -o outside outside.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define STOPPED(...) do { printf("stopped: " __VA_ARGS__); printf("\n"); return 0; } while (0)
#define ESCAPED(...) do { printf("ESCAPED: " __VA_ARGS__); printf("\n"); return 1; } while (0)
#define SETUP(...) do { printf("setup: " __VA_ARGS__); printf("\n"); return 2; } while (0)

/* Writes a file that is allowed to be written (the staging copy the attack then moves or links into place). */
static int stage(const char *path, const char *content)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0755);
    if (fd < 0)
        return -1;
    ssize_t n = write(fd, content, strlen(content));
    close(fd);
    return n == (ssize_t)strlen(content) ? 0 : -1;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        SETUP("usage: outside ATTACK ARGS...");
    const char *a = argv[1];

    if (!strcmp(a, "write") && argc == 4) { /* append CONTENT to PATH, creating it */
        int fd = open(argv[2], O_WRONLY | O_CREAT | O_APPEND, 0755);
        if (fd < 0)
            STOPPED("open %s for writing: %s", argv[2], strerror(errno));
        if (write(fd, argv[3], strlen(argv[3])) < 0)
            STOPPED("write %s: %s", argv[2], strerror(errno));
        close(fd);
        ESCAPED("wrote %s", argv[2]);
    }

    if (!strcmp(a, "rename") && argc == 5) { /* stage CONTENT at SRC (allowed), rename it onto DST */
        if (stage(argv[2], argv[4]))
            SETUP("cannot stage %s: %s", argv[2], strerror(errno));
        if (rename(argv[2], argv[3]))
            STOPPED("rename onto %s: %s", argv[3], strerror(errno));
        ESCAPED("renamed a file onto %s", argv[3]);
    }

    if (!strcmp(a, "hardlink") && argc == 5) { /* stage CONTENT at SRC, hard-link it as DST */
        if (stage(argv[2], argv[4]))
            SETUP("cannot stage %s: %s", argv[2], strerror(errno));
        if (link(argv[2], argv[3]))
            STOPPED("link as %s: %s", argv[3], strerror(errno));
        ESCAPED("hard-linked a file as %s", argv[3]);
    }

    if (!strcmp(a, "symlink") && argc == 5) { /* stage CONTENT at TARGET, plant a symlink to it at LINK */
        if (stage(argv[2], argv[4]))
            SETUP("cannot stage %s: %s", argv[2], strerror(errno));
        if (symlink(argv[2], argv[3]))
            STOPPED("symlink at %s: %s", argv[3], strerror(errno));
        ESCAPED("planted a symlink at %s", argv[3]);
    }

    if (!strcmp(a, "move-away") && argc == 4) { /* rename an existing guarded folder (.git) out of the way */
        if (rename(argv[2], argv[3]))
            STOPPED("rename %s away: %s", argv[2], strerror(errno));
        ESCAPED("moved %s to %s", argv[2], argv[3]);
    }

    if (!strcmp(a, "swap-created") && argc == 5) { /* mkdir EMPTY (the run's own), rename the user's REPO onto it, write HOOK below */
        if (mkdir(argv[2], 0755))
            SETUP("mkdir %s: %s", argv[2], strerror(errno));
        if (rename(argv[3], argv[2]))
            SETUP("rename %s onto %s: %s", argv[3], argv[2], strerror(errno));
        char hook[4096];
        snprintf(hook, sizeof hook, "%s/%s", argv[2], argv[4]);
        int fd = open(hook, O_WRONLY | O_CREAT | O_TRUNC, 0755);
        int saved = errno;
        rename(argv[2], argv[3]); /* put the repository back where the user keeps it */
        if (fd < 0)
            STOPPED("write %s after the swap: %s", hook, strerror(saved));
        dprintf(fd, "#!/bin/sh\necho planted\n");
        close(fd);
        ESCAPED("wrote %s in the user's repository through a folder the run created", hook);
    }

    if (!strcmp(a, "connect") && argc == 3) { /* connect to a Unix socket and say hello */
        int s = socket(AF_UNIX, SOCK_STREAM, 0);
        if (s < 0)
            SETUP("socket: %s", strerror(errno));
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        if (strlen(argv[2]) >= sizeof sa.sun_path)
            SETUP("socket path too long");
        strcpy(sa.sun_path, argv[2]);
        if (connect(s, (struct sockaddr *)&sa, sizeof sa))
            STOPPED("connect %s: %s", argv[2], strerror(errno));
        if (write(s, "hello daemon\n", 13) != 13)
            STOPPED("connected to %s but could not write: %s", argv[2], strerror(errno));
        ESCAPED("connected to %s", argv[2]);
    }

    SETUP("unknown attack or wrong arguments: %s", a);
}
