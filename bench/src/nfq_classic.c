/*
 * nfq_classic: consumer (a) of bench/run, the classic libnetfilter_queue program.
 *
 * nfq_open / nfq_create_queue with a callback / nfq_set_mode(COPY_PACKET, 0xffff) / a recv()
 * loop feeding nfq_handle_packet(); the callback reads the packet header and the payload and
 * gives one nfq_set_verdict(NF_ACCEPT) per packet (one sendto per packet). The only departures
 * from the textbook loop are the ones any serious user makes: a large socket buffer
 * (nfnl_rcvbufsiz, SO_RCVBUFFORCE), a receive buffer large enough for GSO packets, the GSO
 * flag, and ENOBUFS counted instead of fatal.
 *
 * Prints "BOUND queue=N" when bound; stops on SIGTERM/SIGINT and prints its counters to stderr.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <libnetfilter_queue/libnetfilter_queue.h>
#include <libnfnetlink/libnfnetlink.h>

#include "bench_common.h"

static volatile sig_atomic_t stop;
static unsigned long long packets, payload_bytes, verdict_errors;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static int on_packet(struct nfq_q_handle *qh, struct nfgenmsg *nfmsg, struct nfq_data *nfa, void *data)
{
    (void)nfmsg;
    (void)data;
    struct nfqnl_msg_packet_hdr *ph = nfq_get_msg_packet_hdr(nfa);
    if (ph == NULL)
        return 0;
    uint32_t id = ntohl(ph->packet_id);
    unsigned char *payload;
    int len = nfq_get_payload(nfa, &payload);
    if (len > 0)
        payload_bytes += (unsigned long long)len;
    packets++;
    if (nfq_set_verdict(qh, id, NF_ACCEPT, 0, NULL) < 0)
        verdict_errors++;
    return 0;
}

int main(int argc, char **argv)
{
    long queue = -1, maxlen = 1024, rcvbuf = 64L << 20;
    int opt;
    while ((opt = getopt(argc, argv, "q:m:r:")) != -1) {
        switch (opt) {
        case 'q': queue = parse_long(optarg, "queue", 0, 65535); break;
        case 'm': maxlen = parse_long(optarg, "max-length", 1, 1L << 20); break;
        case 'r': rcvbuf = parse_long(optarg, "rcvbuf", 65536, 1L << 30); break;
        default:
            fprintf(stderr, "usage: %s -q QUEUE [-m MAXLEN (1024)] [-r RCVBUF (64 MiB)]\n", argv[0]);
            return 2;
        }
    }
    if (queue < 0) {
        fprintf(stderr, "usage: %s -q QUEUE [-m MAXLEN (1024)] [-r RCVBUF (64 MiB)]\n", argv[0]);
        return 2;
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal; /* no SA_RESTART: recv() returns EINTR */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    struct nfq_handle *h = nfq_open();
    if (h == NULL) {
        perror("nfq_classic: nfq_open");
        return 1;
    }
    struct nfq_q_handle *qh = nfq_create_queue(h, (uint16_t)queue, &on_packet, NULL);
    if (qh == NULL) {
        perror("nfq_classic: nfq_create_queue");
        return 1;
    }
    if (nfq_set_mode(qh, NFQNL_COPY_PACKET, 0xffff) < 0) {
        perror("nfq_classic: nfq_set_mode");
        return 1;
    }
    if (nfq_set_queue_maxlen(qh, (uint32_t)maxlen) < 0) {
        perror("nfq_classic: nfq_set_queue_maxlen");
        return 1;
    }
    if (nfq_set_queue_flags(qh, NFQA_CFG_F_GSO, NFQA_CFG_F_GSO) < 0) {
        perror("nfq_classic: nfq_set_queue_flags");
        return 1;
    }
    nfnl_rcvbufsiz(nfq_nfnlh(h), (unsigned int)rcvbuf);
    int fd = nfq_fd(h);
    /* A backstop for a SIGTERM that lands between the check and recv(). */
    struct timeval tv = {.tv_sec = 0, .tv_usec = 200000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));

    printf("BOUND queue=%ld\n", queue);
    fflush(stdout);

    static char buf[65536 + 4096] __attribute__((aligned));
    unsigned long long enobufs = 0;
    while (!stop) {
        ssize_t rv = recv(fd, buf, sizeof(buf), 0);
        if (rv >= 0) {
            nfq_handle_packet(h, buf, (int)rv);
            continue;
        }
        if (errno == ENOBUFS)
            enobufs++;
        else if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK) {
            perror("nfq_classic: recv");
            break;
        }
    }
    fprintf(stderr, "nfq_classic: packets=%llu payload_bytes=%llu verdict_errors=%llu enobufs=%llu\n", packets,
            payload_bytes, verdict_errors, enobufs);
    nfq_destroy_queue(qh);
    nfq_close(h);
    return 0;
}
