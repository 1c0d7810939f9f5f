/*
 * udp_sink: counts the datagrams that came through the queue.
 *
 * Binds ADDR:PORT with a large receive buffer (SO_RCVBUFFORCE, so a burst of verdicts never
 * overflows it), prints "READY" once bound, then reads with recvmmsg until it has EXPECT
 * datagrams, or nothing arrived for IDLE ms after the first one, or nothing at all arrived
 * within FIRST ms, or the total deadline passes. Every wait is bounded (SO_RCVTIMEO).
 *
 * With -P FILE it publishes its count in FILE (created, zeroed, mapped shared) after every
 * read, and wakes a sender waiting on it (futex): udp_flood -P FILE keeps at most a window of
 * datagrams between its send and this read, so a sink that other load keeps off the CPU slows
 * the sender down instead of overflowing its socket buffer. When the sink stops (done, or idle
 * too long) it says so there, and the sender stops at once instead of waiting for its deadline.
 * With -L FILE (bench/run --latency) it asks for receive timestamps (SO_TIMESTAMPNS: CLOCK_REALTIME,
 * taken by the kernel when loopback hands the datagram, verdict given, to the receive path) and
 * writes, per datagram and in arrival order, that stamp minus the sender's (udp_flood -S, first 8
 * payload bytes) as a little-endian int64 in nanoseconds. The kernel's stamp, not the time read()
 * returns, so that the sink's own scheduling on a busy machine is not counted as the consumer's.
 * A datagram without a kernel stamp gets the sink's clock instead and is counted (nostamp=N).
 * Output (stdout, last line, key=value):
 *   received=N bytes=B first_ns=T0 last_ns=T1 complete=0|1 cpu_us=C
 * with CLOCK_MONOTONIC timestamps (comparable with udp_flood's) and the sink's own CPU time.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "bench_common.h"

#define BATCH 256
#define SLOT 65536

static void usage(const char *argv0)
{
    fprintf(stderr,
            "usage: %s -p PORT -n EXPECT [-a ADDR] [-r RCVBUF] [-i IDLE_MS] [-f FIRST_MS] [-t SECONDS] [-P FILE]\n"
            "  -a ADDR     address to bind (default 0.0.0.0)\n"
            "  -r RCVBUF   receive buffer bytes, forced (default 64 MiB)\n"
            "  -i IDLE_MS  stop when nothing arrived for this long after the first datagram (default 3000)\n"
            "  -f FIRST_MS stop when the first datagram does not come within this (default 60000)\n"
            "  -t SECONDS  stop after this long in any case (default 300)\n"
            "  -P FILE     publish the count in FILE for udp_flood -P (the sender's window)\n"
            "  -L FILE     write each datagram's one-way time (ns, int64) to FILE (needs udp_flood -S)\n",
            argv0);
    exit(2);
}

int main(int argc, char **argv)
{
    const char *addr = "0.0.0.0";
    const char *progress_path = NULL;
    const char *latency_path = NULL;
    long port = -1, expect = -1, rcvbuf = 64L << 20, idle_ms = 3000, first_ms = 60000, total_s = 300;
    int opt;
    while ((opt = getopt(argc, argv, "a:p:n:r:i:f:t:P:L:")) != -1) {
        switch (opt) {
        case 'a': addr = optarg; break;
        case 'p': port = parse_long(optarg, "port", 1, 65535); break;
        case 'n': expect = parse_long(optarg, "count", 1, 1000000000L); break;
        case 'r': rcvbuf = parse_long(optarg, "rcvbuf", 65536, 1L << 30); break;
        case 'i': idle_ms = parse_long(optarg, "idle", 1, 3600000); break;
        case 'f': first_ms = parse_long(optarg, "first", 1, 3600000); break;
        case 't': total_s = parse_long(optarg, "timeout", 1, 86400); break;
        case 'P': progress_path = optarg; break;
        case 'L': latency_path = optarg; break;
        default: usage(argv[0]);
        }
    }
    if (port < 0 || expect < 0 || optind != argc)
        usage(argv[0]);

    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        perror("udp_sink: socket");
        return 1;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    int size = (int)rcvbuf;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0 &&
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size)) < 0) {
        perror("udp_sink: SO_RCVBUF");
        return 1;
    }
    struct timeval tv = {.tv_sec = 0, .tv_usec = 100000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    struct sockaddr_in me = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, addr, &me.sin_addr) != 1) {
        fprintf(stderr, "udp_sink: bad address '%s'\n", addr);
        return 2;
    }
    if (bind(fd, (struct sockaddr *)&me, sizeof(me)) < 0) {
        fprintf(stderr, "udp_sink: bind %s:%ld: %s\n", addr, port, strerror(errno));
        return 1;
    }

    FILE *latency = NULL;
    if (latency_path != NULL) {
        latency = fopen(latency_path, "we");
        if (latency == NULL || setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one)) < 0) {
            fprintf(stderr, "udp_sink: %s: %s\n", latency_path, strerror(errno));
            return 1;
        }
        static char latency_buf[1 << 20];
        setvbuf(latency, latency_buf, _IOFBF, sizeof(latency_buf));
    }
    static unsigned char bufs[BATCH][SLOT];
    static char controls[BATCH][CMSG_SPACE(sizeof(struct timespec))];
    struct iovec iovs[BATCH];
    struct mmsghdr msgs[BATCH];
    memset(msgs, 0, sizeof(msgs));
    for (int i = 0; i < BATCH; i++) {
        iovs[i].iov_base = bufs[i];
        iovs[i].iov_len = SLOT;
        msgs[i].msg_hdr.msg_iov = &iovs[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
    }
    long nostamp = 0, short_datagrams = 0;

    struct progress *progress = progress_path ? progress_map(progress_path, 1) : NULL;

    printf("READY\n");
    fflush(stdout);

    long received = 0;
    unsigned long long bytes = 0;
    uint64_t start = now_ns(), first = 0, last = 0;
    uint64_t deadline = start + (uint64_t)total_s * 1000000000ull;
    while (received < expect) {
        if (latency != NULL)
            for (int i = 0; i < BATCH; i++) {
                msgs[i].msg_hdr.msg_control = controls[i];
                msgs[i].msg_hdr.msg_controllen = sizeof(controls[i]);
            }
        int n = recvmmsg(fd, msgs, BATCH, MSG_WAITFORONE, NULL);
        uint64_t t = now_ns();
        if (n > 0) {
            if (received == 0)
                first = t;
            last = t;
            received += n;
            for (int i = 0; i < n; i++)
                bytes += msgs[i].msg_len;
            if (latency != NULL) {
                struct timespec rt;
                clock_gettime(CLOCK_REALTIME, &rt);
                for (int i = 0; i < n; i++) {
                    if (msgs[i].msg_len < 8) {
                        short_datagrams++;
                        continue;
                    }
                    int64_t sent_ns, recv_ns = (int64_t)rt.tv_sec * 1000000000 + rt.tv_nsec;
                    memcpy(&sent_ns, bufs[i], sizeof(sent_ns));
                    int stamped = 0;
                    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msgs[i].msg_hdr); c != NULL; c = CMSG_NXTHDR(&msgs[i].msg_hdr, c)) {
                        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
                            struct timespec ts;
                            memcpy(&ts, CMSG_DATA(c), sizeof(ts));
                            recv_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
                            stamped = 1;
                        }
                    }
                    if (!stamped)
                        nostamp++;
                    int64_t d = recv_ns - sent_ns;
                    fwrite(&d, sizeof(d), 1, latency);
                }
            }
            if (progress != NULL) {
                atomic_store(&progress->received, (uint32_t)received);
                if (atomic_load(&progress->waiting))
                    syscall(SYS_futex, &progress->received, FUTEX_WAKE, INT32_MAX, NULL, NULL, 0);
            }
        } else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            perror("udp_sink: recvmmsg");
            break;
        }
        if (t > deadline)
            break;
        if (received == 0 && t - start > (uint64_t)first_ms * 1000000ull)
            break;
        if (received > 0 && t - last > (uint64_t)idle_ms * 1000000ull)
            break;
    }
    if (progress != NULL) {
        atomic_store(&progress->sink_done, 1);
        syscall(SYS_futex, &progress->received, FUTEX_WAKE, INT32_MAX, NULL, NULL, 0);
    }
    if (latency != NULL && fclose(latency) != 0)
        perror("udp_sink: latency file");
    printf("received=%ld bytes=%llu first_ns=%llu last_ns=%llu complete=%d cpu_us=%llu nostamp=%ld short=%ld\n", received,
           bytes, (unsigned long long)first, (unsigned long long)last, received >= expect ? 1 : 0, cpu_us(), nostamp,
           short_datagrams);
    close(fd);
    return received >= expect ? 0 : 1;
}
