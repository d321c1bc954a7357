/* Runs a command on a new pseudo-terminal and answers cordon's prompts like a person would: each time the screen
 * shows TRIGGER (a prompt's title), it waits a moment and types the next KEY. Prints everything the command
 * wrote and exits with its status. tmux plays this part on the host; the guest has no tmux.
 * Usage: pty_answer TRIGGER KEYS -- COMMAND [ARGS...]      Build: cc -O2 -static -o pty_answer pty_answer.c */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 5 || strcmp(argv[3], "--")) {
		fprintf(stderr, "usage: pty_answer TRIGGER KEYS -- COMMAND [ARGS...]\n");
		return 64;
	}
	const char *trigger = argv[1], *keys = argv[2];
	int master = posix_openpt(O_RDWR | O_NOCTTY);
	if (master < 0 || grantpt(master) || unlockpt(master)) {
		perror("pty");
		return 65;
	}
	struct winsize ws = {.ws_row = 40, .ws_col = 120};
	ioctl(master, TIOCSWINSZ, &ws);
	pid_t pid = fork();
	if (pid == 0) {
		setsid();
		int slave = open(ptsname(master), O_RDWR);
		ioctl(slave, TIOCSCTTY, 0);
		dup2(slave, 0), dup2(slave, 1), dup2(slave, 2);
		close(master);
		execvp(argv[4], &argv[4]);
		_exit(127);
	}
	static char screen[1 << 20];
	size_t len = 0, seen = 0;
	for (;;) {
		struct pollfd p = {.fd = master, .events = POLLIN};
		if (poll(&p, 1, 100) > 0) {
			ssize_t n = read(master, screen + len, sizeof screen - 1 - len);
			if (n <= 0)
				break; /* EIO: the command and everything on the terminal exited */
			fwrite(screen + len, 1, (size_t)n, stdout);
			len += (size_t)n;
			screen[len] = 0;
		}
		char *hit = strstr(screen + seen, trigger);
		if (hit && *keys) {
			seen = (size_t)(hit - screen) + strlen(trigger);
			usleep(300 * 1000); /* a person reads first; keys typed before the box is drawn are dropped */
			write(master, keys++, 1);
		}
		if (len >= sizeof screen - 1)
			len = seen = 0;
	}
	int status;
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
