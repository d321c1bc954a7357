/* Reads a file with io_uring only (IORING_OP_OPENAT + IORING_OP_READ), never open(2) or read(2): the seccomp
 * engine refuses io_uring_setup because these operations bypass seccomp; the LSM engine must decide them at the
 * file_open hook like any other open. Prints the bytes read; exits 0 when the file was read, 2 when the open was
 * refused (prints the errno), 3 when io_uring itself is unavailable.
 * Build: cc -O2 -static -o uring_read uring_read.c */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/io_uring.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static int ring_fd;
static unsigned *sq_tail, *sq_mask, *sq_array, *cq_head, *cq_tail, *cq_mask;
static struct io_uring_sqe *sqes;
static struct io_uring_cqe *cqes;

static int run(struct io_uring_sqe *sqe)
{
	unsigned tail = *sq_tail, index = tail & *sq_mask;
	sqes[index] = *sqe;
	sq_array[index] = index;
	__atomic_store_n(sq_tail, tail + 1, __ATOMIC_RELEASE);
	if (syscall(__NR_io_uring_enter, ring_fd, 1, 1, IORING_ENTER_GETEVENTS, NULL, 0) < 0)
		return -1000;
	unsigned head = __atomic_load_n(cq_head, __ATOMIC_ACQUIRE);
	int res = cqes[head & *cq_mask].res;
	__atomic_store_n(cq_head, head + 1, __ATOMIC_RELEASE);
	return res;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: uring_read FILE\n");
		return 64;
	}
	struct io_uring_params p;
	memset(&p, 0, sizeof p);
	ring_fd = (int)syscall(__NR_io_uring_setup, 4, &p);
	if (ring_fd < 0) {
		perror("io_uring_setup");
		return 3;
	}
	size_t sq_size = p.sq_off.array + p.sq_entries * sizeof(unsigned);
	size_t cq_size = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
	char *sq = mmap(NULL, sq_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring_fd, IORING_OFF_SQ_RING);
	char *cq = mmap(NULL, cq_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring_fd, IORING_OFF_CQ_RING);
	sqes = mmap(NULL, p.sq_entries * sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
		    ring_fd, IORING_OFF_SQES);
	if (sq == MAP_FAILED || cq == MAP_FAILED || sqes == MAP_FAILED) {
		perror("mmap");
		return 3;
	}
	sq_tail = (unsigned *)(sq + p.sq_off.tail);
	sq_mask = (unsigned *)(sq + p.sq_off.ring_mask);
	sq_array = (unsigned *)(sq + p.sq_off.array);
	cq_head = (unsigned *)(cq + p.cq_off.head);
	cq_tail = (unsigned *)(cq + p.cq_off.tail);
	cq_mask = (unsigned *)(cq + p.cq_off.ring_mask);
	cqes = (struct io_uring_cqe *)(cq + p.cq_off.cqes);

	struct io_uring_sqe sqe;
	memset(&sqe, 0, sizeof sqe);
	sqe.opcode = IORING_OP_OPENAT;
	sqe.fd = AT_FDCWD;
	sqe.addr = (unsigned long)argv[1];
	sqe.open_flags = O_RDONLY;
	int fd = run(&sqe);
	if (fd < 0) {
		printf("open refused: %s\n", strerror(-fd));
		return 2;
	}
	static char buf[4096];
	memset(&sqe, 0, sizeof sqe);
	sqe.opcode = IORING_OP_READ;
	sqe.fd = fd;
	sqe.addr = (unsigned long)buf;
	sqe.len = sizeof buf - 1;
	int n = run(&sqe);
	if (n < 0) {
		printf("read refused: %s\n", strerror(-n));
		return 2;
	}
	fwrite(buf, 1, (size_t)n, stdout);
	return 0;
}
