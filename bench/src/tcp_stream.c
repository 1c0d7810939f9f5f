/*
 * tcp_stream: one bounded TCP transfer, for bench/long-flow (issue 15, flow offload).
 *
 *   tcp_stream sink -p PORT [-t SECONDS]
 *       listens on PORT (IPv4, any address), prints "READY", accepts ONE connection and reads
 *       until EOF or SECONDS (default 120) have passed; then prints
 *       "received=BYTES accept_ns=T0 last_ns=T1 cpu_us=U complete=0|1"
 *   tcp_stream send -a ADDR -p PORT -n BYTES [-d SECONDS]
 *       connects to ADDR:PORT and writes BYTES (or until SECONDS, default 60, have passed:
 *       whichever comes first), then shuts the connection down and prints
 *       "sent=BYTES start_ns=T0 end_ns=T1 cpu_us=U"
 *
 * Times are CLOCK_MONOTONIC, comparable between the two processes (and between namespaces).
 * Buffers of 256 KiB; nothing else is tuned, so the kernel's defaults (autotuning, TSO/GSO of
 * the device) apply as they do for any program.
 */
#define _GNU_SOURCE
#include "bench_common.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#define BUF_SIZE (256 * 1024)

static char buf[BUF_SIZE];

static void die(const char *what)
{
    fprintf(stderr, "tcp_stream: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void usage(void)
{
    fprintf(stderr, "usage: tcp_stream sink -p PORT [-t SECONDS]\n"
                    "       tcp_stream send -a ADDR -p PORT -n BYTES [-d SECONDS]\n");
    exit(2);
}

/* Waits up to ms for fd to become readable/writable; 0 on timeout. */
static int wait_fd(int fd, short events, int ms)
{
    struct pollfd p = { .fd = fd, .events = events };
    int r = poll(&p, 1, ms);
    if (r < 0 && errno != EINTR) {
        die("poll");
    }
    return r > 0;
}

static int run_sink(int port, long seconds)
{
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (ls < 0) {
        die("socket");
    }
    int one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr.s_addr = htonl(INADDR_ANY) };
    if (bind(ls, (struct sockaddr *)&a, sizeof(a)) < 0) {
        die("bind");
    }
    if (listen(ls, 4) < 0) {
        die("listen");
    }
    printf("READY port=%d\n", port);
    fflush(stdout);
    uint64_t deadline = now_ns() + (uint64_t)seconds * 1000000000ull;
    while (!wait_fd(ls, POLLIN, 100)) {
        if (now_ns() > deadline) {
            printf("received=0 accept_ns=0 last_ns=0 cpu_us=%llu complete=0\n", cpu_us());
            return 1;
        }
    }
    int s = accept4(ls, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (s < 0) {
        die("accept");
    }
    uint64_t t0 = now_ns(), last = t0;
    unsigned long long received = 0;
    int complete = 0;
    while (now_ns() < deadline) {
        ssize_t n = recv(s, buf, sizeof(buf), 0);
        if (n > 0) {
            received += (unsigned long long)n;
            last = now_ns();
        } else if (n == 0) {
            complete = 1;
            break;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
            wait_fd(s, POLLIN, 100);
        } else {
            fprintf(stderr, "tcp_stream: recv: %s\n", strerror(errno));
            break;
        }
    }
    printf("received=%llu accept_ns=%llu last_ns=%llu cpu_us=%llu complete=%d\n", received,
           (unsigned long long)t0, (unsigned long long)last, cpu_us(), complete);
    close(s);
    close(ls);
    return complete ? 0 : 1;
}

static int run_send(const char *addr, int port, long long bytes, long seconds)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    if (inet_pton(AF_INET, addr, &a.sin_addr) != 1) {
        fprintf(stderr, "tcp_stream: bad IPv4 address '%s'\n", addr);
        return 2;
    }
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0) {
        die("socket");
    }
    /* A bounded connect: a SYN that the queue drops is retried by the kernel for minutes. */
    struct timeval tv = { .tv_sec = 10 };
    setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    uint64_t t0 = now_ns();
    if (connect(s, (struct sockaddr *)&a, sizeof(a)) < 0) {
        die("connect");
    }
    /* From here on: writes wait at most 1 s each, and the whole transfer at most SECONDS. */
    tv.tv_sec = 1;
    setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    uint64_t deadline = t0 + (uint64_t)seconds * 1000000000ull;
    memset(buf, 'x', sizeof(buf));
    long long sent = 0;
    while (sent < bytes && now_ns() < deadline) {
        size_t want = (size_t)(bytes - sent < (long long)sizeof(buf) ? bytes - sent : (long long)sizeof(buf));
        ssize_t n = send(s, buf, want, MSG_NOSIGNAL);
        if (n > 0) {
            sent += n;
        } else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            fprintf(stderr, "tcp_stream: send: %s\n", strerror(errno));
            break;
        }
    }
    shutdown(s, SHUT_WR);
    /* Wait (bounded) for the sink's close, so that end_ns is when the data was taken. */
    while (now_ns() < deadline + 5000000000ull && wait_fd(s, POLLIN, 100) == 0) {
    }
    uint64_t t1 = now_ns();
    close(s);
    printf("sent=%lld start_ns=%llu end_ns=%llu cpu_us=%llu\n", sent, (unsigned long long)t0,
           (unsigned long long)t1, cpu_us());
    return sent == bytes ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage();
    }
    const char *mode = argv[1];
    const char *addr = NULL;
    int port = 0;
    long long bytes = 0;
    long seconds = -1;
    int opt;
    optind = 2;
    while ((opt = getopt(argc, argv, "a:p:n:d:t:")) != -1) {
        switch (opt) {
        case 'a': addr = optarg; break;
        case 'p': port = (int)parse_long(optarg, "port", 1, 65535); break;
        case 'n': bytes = parse_long(optarg, "byte count", 1, 1L << 40); break;
        case 'd':
        case 't': seconds = parse_long(optarg, "seconds", 1, 3600); break;
        default: usage();
        }
    }
    if (port == 0) {
        usage();
    }
    if (strcmp(mode, "sink") == 0) {
        return run_sink(port, seconds < 0 ? 120 : seconds);
    }
    if (strcmp(mode, "send") == 0 && addr != NULL && bytes > 0) {
        return run_send(addr, port, bytes, seconds < 0 ? 60 : seconds);
    }
    usage();
    return 2;
}
