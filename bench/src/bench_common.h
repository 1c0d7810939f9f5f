/*
 * What the benchmark's C programs share: the progress file that udp_sink publishes and
 * udp_flood reads (one layout, here, so the two cannot disagree), clocks, and argument parsing.
 * Header-only: each program is one file, built by one compiler call (bench/Makefile).
 */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* The sink's count, whether a sender sleeps on it (futex), whether the sink has stopped. */
struct progress {
    _Atomic uint32_t received;
    _Atomic uint32_t waiting;
    _Atomic uint32_t sink_done; /* the sink stopped reading: the sender stops too */
};

/*
 * Maps the progress file shared. The sink creates it (create != 0: created, truncated, sized);
 * the sender opens the one the sink made before it printed READY. Exits on failure.
 */
static inline struct progress *progress_map(const char *path, int create)
{
    int fd = create ? open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600) : open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0 || (create && ftruncate(fd, (off_t)sizeof(struct progress)) < 0)) {
        fprintf(stderr, "%s: %s: %s\n", program_invocation_short_name, path, strerror(errno));
        exit(1);
    }
    void *p = mmap(NULL, sizeof(struct progress), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (p == MAP_FAILED) {
        fprintf(stderr, "%s: mmap %s: %s\n", program_invocation_short_name, path, strerror(errno));
        exit(1);
    }
    return p;
}

/* CPU time (user + system) this process used so far, in microseconds. */
static inline unsigned long long cpu_us(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (unsigned long long)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000ull +
           (unsigned long long)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

/* CLOCK_MONOTONIC in nanoseconds: comparable between the sender and the sink. */
static inline uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* A decimal argument within [min, max]; exits with status 2 and a message otherwise. */
static inline long parse_long(const char *s, const char *what, long min, long max)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max) {
        fprintf(stderr, "%s: bad %s '%s' (%ld..%ld)\n", program_invocation_short_name, what, s, min, max);
        exit(2);
    }
    return v;
}

#endif
