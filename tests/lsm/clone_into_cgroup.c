/* Starts a program in another cgroup with clone3(CLONE_INTO_CGROUP): a way out of the sandbox's cgroup, and so out
 * of the LSM engine's reach, if nothing stopped it. Usage: clone_into_cgroup CGROUP_DIR PROGRAM [ARGS...]
 * Exits with the program's status, or 2 (and says why) when the clone is refused.
 * Build: cc -O2 -static -o clone_into_cgroup clone_into_cgroup.c */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: clone_into_cgroup CGROUP_DIR PROGRAM [ARGS...]\n");
		return 64;
	}
	int dir = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0) {
		printf("open %s refused: %s\n", argv[1], strerror(errno));
		return 2;
	}
	struct clone_args args;
	memset(&args, 0, sizeof args);
	args.flags = CLONE_INTO_CGROUP;
	args.exit_signal = SIGCHLD;
	args.cgroup = (uint64_t)dir;
	long pid = syscall(__NR_clone3, &args, sizeof args);
	if (pid < 0) {
		printf("clone3 refused: %s\n", strerror(errno));
		return 2;
	}
	if (pid == 0) {
		execv(argv[2], &argv[2]);
		_exit(127);
	}
	int status;
	waitpid((pid_t)pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
