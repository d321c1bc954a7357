/* Opens and closes one file N times on T threads; prints the mean microseconds per open+close.
 * Build: cc -O2 -pthread -o openbench openbench.c ; run: openbench FILE N [THREADS] */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static const char *file;
static long per_thread;

static void *worker(void *arg)
{
    (void)arg;
    for (long i = 0; i < per_thread; i++) {
        int fd = open(file, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            perror("open");
            exit(1);
        }
        close(fd);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: openbench FILE N [THREADS]\n");
        return 2;
    }
    file = argv[1];
    long n = atol(argv[2]);
    int threads = argc > 3 ? atoi(argv[3]) : 1;
    per_thread = n / threads;
    pthread_t t[64];
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (int i = 0; i < threads; i++)
        pthread_create(&t[i], NULL, worker, NULL);
    for (int i = 0; i < threads; i++)
        pthread_join(t[i], NULL);
    clock_gettime(CLOCK_MONOTONIC, &b);
    double us = ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / 1e3;
    printf("%.3f\n", us / (per_thread * threads));
    return 0;
}
