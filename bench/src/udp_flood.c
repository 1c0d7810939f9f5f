/*
 * udp_flood: the closed-loop sender of bench/run.
 *
 * Sends COUNT UDP datagrams of LEN payload bytes to DST:PORT as fast as the kernel lets it,
 * with blocking sendmmsg() calls on one thread. "Closed loop" comes from the kernel: a queued
 * packet stays charged to the sending socket's send buffer (sk_wmem_alloc) until its verdict
 * is given and loopback_xmit() orphans it on the way to the sink, so once SO_SNDBUF worth of
 * datagrams wait in the NFQUEUE the sender blocks in sendmmsg() until the consumer gives
 * verdicts. The number in flight is thus bounded by the send buffer (a few hundred small
 * datagrams with the default 212 992 bytes), well under the queue's max-length (1024), so the
 * queue never overflows and nothing is lost: the consumer's speed paces the sender.
 *
 * With several -s sources, one connected socket per source address is used in turn (one
 * sendmmsg batch each), still on one thread: the offered load is the same as with one source;
 * the addresses differ so that an iptables --queue-balance rule (which hashes addresses, not
 * ports) spreads the traffic over its queues.
 *
 * The sink is outside that loop: a packet stops counting against the send buffer when it leaves
 * for the sink's socket. So that a sink kept off the CPU by other load cannot overflow its
 * socket buffer, -P FILE (shared with udp_sink -P) adds a second loop: at most WINDOW
 * datagrams sent and not yet read by the sink (default 4096, far below what the sink's
 * buffer holds). When the sink keeps up, the window never closes and only the first loop paces.
 * When the sink says it has stopped, the sender stops too.
 *
 * With -B BURST -I INTERVAL_US it sends in bursts instead, as traffic from a network arrives:
 * BURST datagrams as fast as the kernel takes them, then a sleep until the next burst is due
 * (burst k starts at start + k * INTERVAL_US), until COUNT are sent. bench/run --bursts uses it
 * with an INPUT-hook rule, where a queued packet no longer holds the sender's send buffer, so
 * nothing paces the sender: what the queue cannot hold is lost, as from a real network.
 *
 * With -R RATE it paces instead (bench/run --latency): datagram k is due at start + k / RATE
 * seconds; whatever is due goes out in one sendmmsg (at most BATCH), then the sender sleeps until
 * the next one is due. A sleep ends some microseconds late, so at high rates datagrams leave in
 * small clumps of what fell due meanwhile, as they would from a busy host. With -S every datagram
 * carries, in its first 8 payload bytes, CLOCK_REALTIME in nanoseconds taken just before the
 * sendmmsg that sends it (udp_sink -L subtracts it from the kernel's receive stamp, which is
 * CLOCK_REALTIME too). The stamp is when the datagram was handed to the kernel, not when it fell
 * due: a sender kept off the CPU sends late and that delay is not counted (no coordinated-omission
 * correction); bench/run reports how late the sender fell behind its schedule.
 *
 * Every wait is bounded: SO_SNDTIMEO makes a blocked send return, and the whole run stops at
 * the -t deadline. Output (stdout, one line, key=value):
 *   sent=N errors=E stalls=S window_waits=W start_ns=T0 end_ns=T1 cpu_us=C
 * with CLOCK_MONOTONIC timestamps (comparable with udp_sink's) and the sender's own CPU time.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/prctl.h>
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

#define MAX_SOURCES 8
#define MAX_BATCH 256
#define MAX_PAYLOAD 65507

static void usage(const char *argv0)
{
    fprintf(stderr,
            "usage: %s -p PORT -n COUNT [-d DST] [-l LEN] [-s SRC]... [-b BATCH] [-w SNDBUF] [-t SECONDS]\n"
            "          [-P FILE [-W WINDOW]] [-B BURST -I INTERVAL_US] [-R RATE] [-S]\n"
            "  -d DST     destination IPv4 address (default 127.0.0.1)\n"
            "  -p PORT    destination UDP port\n"
            "  -n COUNT   datagrams to send\n"
            "  -l LEN     payload bytes (default 64)\n"
            "  -s SRC     source address to bind; repeat for several sockets used in turn\n"
            "  -b BATCH   datagrams per sendmmsg (default 32, at most %d)\n"
            "  -w SNDBUF  SO_SNDBUF bytes (default: the system's, 212992 here)\n"
            "  -t SECONDS give up after this long (default 120)\n"
            "  -P FILE    the sink's progress file (udp_sink -P): keep at most WINDOW unread datagrams\n"
            "  -W WINDOW  datagrams sent and not yet read by the sink (default 4096)\n"
            "  -B BURST   send in bursts of BURST datagrams ...\n"
            "  -I INTERVAL_US  ... one burst every INTERVAL_US microseconds\n"
            "  -R RATE    paced: RATE datagrams per second on a fixed schedule\n"
            "  -S         stamp each datagram with CLOCK_REALTIME ns (first 8 payload bytes, needs -l >= 8)\n",
            argv0, MAX_BATCH);
    exit(2);
}

int main(int argc, char **argv)
{
    const char *dst = "127.0.0.1";
    const char *sources[MAX_SOURCES];
    int nsources = 0;
    long port = -1, count = -1, len = 64, batch = 32, sndbuf = 0, timeout = 120, window = 4096;
    long burst = 0, interval_us = 0, rate = 0;
    int stamp = 0;
    const char *progress_path = NULL;
    int opt;
    while ((opt = getopt(argc, argv, "d:p:n:l:s:b:w:t:P:W:B:I:R:S")) != -1) {
        switch (opt) {
        case 'd': dst = optarg; break;
        case 'p': port = parse_long(optarg, "port", 1, 65535); break;
        case 'n': count = parse_long(optarg, "count", 1, 1000000000L); break;
        case 'l': len = parse_long(optarg, "length", 0, MAX_PAYLOAD); break;
        case 's':
            if (nsources == MAX_SOURCES) {
                fprintf(stderr, "udp_flood: at most %d sources\n", MAX_SOURCES);
                return 2;
            }
            sources[nsources++] = optarg;
            break;
        case 'b': batch = parse_long(optarg, "batch", 1, MAX_BATCH); break;
        case 'w': sndbuf = parse_long(optarg, "sndbuf", 0, 1L << 30); break;
        case 't': timeout = parse_long(optarg, "timeout", 1, 86400); break;
        case 'P': progress_path = optarg; break;
        case 'W': window = parse_long(optarg, "window", 1, 1L << 30); break;
        case 'B': burst = parse_long(optarg, "burst", 1, 1000000000L); break;
        case 'I': interval_us = parse_long(optarg, "interval", 1, 60000000L); break;
        case 'R': rate = parse_long(optarg, "rate", 1, 100000000L); break;
        case 'S': stamp = 1; break;
        default: usage(argv[0]);
        }
    }
    if (port < 0 || count < 0 || optind != argc || (burst > 0) != (interval_us > 0) || (burst > 0 && rate > 0) ||
        (stamp && len < 8))
        usage(argv[0]);
    /* The default 50 us timer slack would make every paced sleep that much late. */
    if (rate > 0)
        prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
    if (batch > window)
        batch = window;
    struct progress *progress = progress_path ? progress_map(progress_path, 0) : NULL;

    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, dst, &to.sin_addr) != 1) {
        fprintf(stderr, "udp_flood: bad destination '%s'\n", dst);
        return 2;
    }
    int nsock = nsources > 0 ? nsources : 1;
    int fds[MAX_SOURCES];
    for (int i = 0; i < nsock; i++) {
        fds[i] = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fds[i] < 0) {
            perror("udp_flood: socket");
            return 1;
        }
        /* A blocked send wakes at least every 200 ms so the deadline is noticed. */
        struct timeval tv = {.tv_sec = 0, .tv_usec = 200000};
        setsockopt(fds[i], SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        if (sndbuf > 0 && setsockopt(fds[i], SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof(sndbuf)) < 0 &&
            setsockopt(fds[i], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)) < 0) {
            perror("udp_flood: SO_SNDBUF");
            return 1;
        }
        if (nsources > 0) {
            struct sockaddr_in from = {.sin_family = AF_INET};
            if (inet_pton(AF_INET, sources[i], &from.sin_addr) != 1) {
                fprintf(stderr, "udp_flood: bad source '%s'\n", sources[i]);
                return 2;
            }
            if (bind(fds[i], (struct sockaddr *)&from, sizeof(from)) < 0) {
                fprintf(stderr, "udp_flood: bind %s: %s\n", sources[i], strerror(errno));
                return 1;
            }
        }
        if (connect(fds[i], (struct sockaddr *)&to, sizeof(to)) < 0) {
            perror("udp_flood: connect");
            return 1;
        }
    }

    /* One payload shared by every message, or with -S one per message of a batch (own stamps). */
    int nbufs = stamp ? (int)batch : 1;
    unsigned char *payloads = malloc((size_t)nbufs * (size_t)(len > 0 ? len : 1));
    if (payloads == NULL) {
        perror("udp_flood: malloc");
        return 1;
    }
    for (int b = 0; b < nbufs; b++)
        for (long i = 0; i < len; i++)
            payloads[(size_t)b * (size_t)len + (size_t)i] = (unsigned char)('a' + i % 26);
    static struct iovec iovs[MAX_BATCH];
    struct mmsghdr msgs[MAX_BATCH];
    memset(msgs, 0, sizeof(msgs));
    for (int i = 0; i < MAX_BATCH; i++) {
        iovs[i].iov_base = payloads + (size_t)(stamp ? (i < nbufs ? i : 0) : 0) * (size_t)len;
        iovs[i].iov_len = (size_t)len;
        msgs[i].msg_hdr.msg_iov = &iovs[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
    }
    /* Paced mode: the largest lag behind schedule seen, in ns (reported as max_late_us). */
    uint64_t max_late = 0;

    long sent = 0, errors = 0, stalls = 0, window_waits = 0, bursts = 0;
    int last_errno = 0;
    uint64_t start = now_ns();
    uint64_t deadline = start + (uint64_t)timeout * 1000000000ull;
    int which = 0;
    /* In burst mode: where the current burst ends (it is sent whole before the next sleep). */
    long burst_end = burst > 0 ? (burst < count ? burst : count) : count;
    while (sent < count) {
        if (burst > 0 && sent >= burst_end) {
            /* The burst is out: sleep until the next one is due (absolute, so bursts do not drift). */
            bursts++;
            uint64_t due = start + (uint64_t)bursts * (uint64_t)interval_us * 1000ull;
            struct timespec ts = {.tv_sec = (time_t)(due / 1000000000ull), .tv_nsec = (long)(due % 1000000000ull)};
            while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
            }
            burst_end = sent + burst < count ? sent + burst : count;
            if (now_ns() > deadline) {
                fprintf(stderr, "udp_flood: deadline of %ld s reached after %ld datagrams\n", timeout, sent);
                break;
            }
        }
        long left = burst_end - sent;
        if (rate > 0) {
            /* Datagram `sent` is due at start + sent / rate: sleep until then, then send all that is due. */
            uint64_t due = start + (uint64_t)((__int128)sent * 1000000000 / rate);
            uint64_t t = now_ns();
            if (t < due) {
                struct timespec ts = {.tv_sec = (time_t)(due / 1000000000ull), .tv_nsec = (long)(due % 1000000000ull)};
                while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
                }
                t = now_ns();
            }
            if (t > due && t - due > max_late)
                max_late = t - due;
            long ndue = (long)((__int128)(t - start) * rate / 1000000000) + 1 - sent;
            if (ndue < left)
                left = ndue;
            if (left < 1)
                left = 1;
            if (t > deadline) {
                fprintf(stderr, "udp_flood: deadline of %ld s reached after %ld datagrams\n", timeout, sent);
                break;
            }
        }
        unsigned int n = (unsigned int)(left < batch ? left : batch);
        if (progress != NULL) {
            if (atomic_load(&progress->sink_done)) {
                fprintf(stderr, "udp_flood: the sink stopped reading after %u datagrams; stopping at %ld\n",
                        atomic_load(&progress->received), sent);
                break;
            }
            uint32_t got = atomic_load(&progress->received);
            if ((uint32_t)sent - got + n > (uint32_t)window) {
                /* Window closed: sleep until the sink's count moves (at most 100 ms a time). */
                window_waits++;
                atomic_store(&progress->waiting, 1);
                got = atomic_load(&progress->received);
                if ((uint32_t)sent - got + n > (uint32_t)window) {
                    struct timespec ts = {.tv_sec = 0, .tv_nsec = 100000000};
                    syscall(SYS_futex, &progress->received, FUTEX_WAIT, got, &ts, NULL, 0);
                }
                atomic_store(&progress->waiting, 0);
                if (now_ns() > deadline) {
                    fprintf(stderr, "udp_flood: deadline of %ld s reached after %ld datagrams\n", timeout, sent);
                    break;
                }
                continue;
            }
        }
        if (stamp) {
            struct timespec rt;
            clock_gettime(CLOCK_REALTIME, &rt);
            int64_t ns = (int64_t)rt.tv_sec * 1000000000 + rt.tv_nsec;
            for (unsigned int i = 0; i < n; i++)
                memcpy(iovs[i].iov_base, &ns, sizeof(ns));
        }
        int r = sendmmsg(fds[which], msgs, n, 0);
        if (r > 0) {
            sent += r;
            which = (which + 1) % nsock;
            continue;
        }
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            stalls++; /* blocked for 200 ms: the consumer gave no verdict meanwhile */
        } else if (r < 0 && errno != EINTR) {
            /* The first datagram of the batch failed: counted as lost, as the kernel said so. */
            errors++;
            last_errno = errno;
            sent++;
        }
        if (now_ns() > deadline) {
            fprintf(stderr, "udp_flood: deadline of %ld s reached after %ld datagrams\n", timeout, sent);
            break;
        }
    }
    uint64_t end = now_ns();
    printf("sent=%ld errors=%ld stalls=%ld window_waits=%ld bursts=%ld start_ns=%llu end_ns=%llu cpu_us=%llu max_late_us=%llu\n",
           sent - errors, errors, stalls, window_waits, burst > 0 ? bursts + 1 : 0, (unsigned long long)start, (unsigned long long)end, cpu_us(),
           (unsigned long long)(max_late / 1000));
    if (errors > 0)
        fprintf(stderr, "udp_flood: %ld send errors, last: %s\n", errors, strerror(last_errno));
    for (int i = 0; i < nsock; i++)
        close(fds[i]);
    free(payloads);
    return sent < count ? 1 : 0;
}
