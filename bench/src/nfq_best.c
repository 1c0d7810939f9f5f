/*
 * nfq_best: consumer (b) of bench/run, the fastest accept-everything C consumer we know how to
 * write with libmnl and libnetfilter_queue's nfq_nlmsg_* API.
 *
 *  - one configuration message per queue: BIND + copy mode/range + max-length + GSO flag,
 *    acknowledged before "BOUND" is printed;
 *  - a forced large receive buffer (SO_RCVBUFFORCE, 64 MiB by default) so the kernel queue,
 *    not the socket, is where overflow would happen;
 *  - recvmmsg(MSG_DONTWAIT) reads up to BATCH datagrams (one packet message each) per call;
 *    every message is parsed with nfq_nlmsg_parse (id, payload), as a real consumer must;
 *  - the verdicts of everything one recvmmsg returned go out in one sendto(), right after it:
 *    a batch is flushed when it fills and whenever the socket had nothing more to give (a
 *    consumer that waited for a full batch would stall a sender that has fewer datagrams in
 *    flight than the batch);
 *  - when a queue's ids in the batch are exactly the ids that follow the last verdict given
 *    on it (contiguous, nothing skipped, all ACCEPT), they become one NFQNL_MSG_VERDICT_BATCH;
 *    otherwise one NFQNL_MSG_VERDICT per packet, still all in the same sendto();
 *  - with -Q, one socket owns the range of queues -q..-Q (one thread, for --queue-balance).
 *
 * Prints "BOUND queue=N[..M]" when bound; stops on SIGTERM/SIGINT and prints its counters to
 * stderr. Every wait is bounded (poll with a 200 ms timeout).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

#include "bench_common.h"

#define MAX_BATCH 1024
#define MAX_QUEUES 16
#define SLOT_SIZE (65536 + 4096)

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

struct queue_state {
    uint32_t next_expected; /* id after the last verdict given; 0: none yet */
    uint32_t first, last;   /* ids of this batch on this queue */
    int count;
    int contiguous;
};

static struct queue_state queues[MAX_QUEUES];
static int first_queue, nqueues;
static struct mnl_socket *nl;

static uint32_t pending_id[MAX_BATCH];
static uint16_t pending_queue[MAX_BATCH];
static int npending;

static unsigned long long packets, payload_bytes, batch_verdicts, single_verdicts, sends, send_errors,
    kernel_errors, enobufs, recv_calls, empty_polls;

static int configure(uint16_t queue, uint32_t maxlen)
{
    char buf[MNL_SOCKET_BUFFER_SIZE];
    struct nlmsghdr *nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, queue);
    nlh->nlmsg_flags |= NLM_F_ACK;
    uint32_t seq = (uint32_t)time(NULL) + queue;
    nlh->nlmsg_seq = seq;
    nfq_nlmsg_cfg_put_cmd(nlh, AF_INET, NFQNL_CFG_CMD_BIND);
    nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, 0xffff);
    nfq_nlmsg_cfg_put_qmaxlen(nlh, maxlen);
    mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(NFQA_CFG_F_GSO));
    mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(NFQA_CFG_F_GSO));
    if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
        return -1;
    ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
    if (n < 0)
        return -1;
    return mnl_cb_run(buf, (size_t)n, seq, mnl_socket_get_portid(nl), NULL, NULL) < 0 ? -1 : 0;
}

/* Sends the verdicts of everything received since the last flush, in one sendto(). */
static void flush_verdicts(void)
{
    static char buf[MAX_BATCH * 64 + MAX_QUEUES * 64];
    if (npending == 0)
        return;
    size_t used = 0;
    for (int q = 0; q < nqueues; q++) {
        struct queue_state *s = &queues[q];
        if (s->count == 0)
            continue;
        int batch = s->contiguous && s->next_expected != 0 && s->first == s->next_expected &&
                    s->last - s->first + 1 == (uint32_t)s->count;
        if (batch) {
            struct nlmsghdr *nlh = nfq_nlmsg_put(buf + used, NFQNL_MSG_VERDICT_BATCH, (uint32_t)(first_queue + q));
            nfq_nlmsg_verdict_put(nlh, (int)s->last, NF_ACCEPT);
            used += MNL_ALIGN(nlh->nlmsg_len);
            batch_verdicts++;
        } else {
            for (int i = 0; i < npending; i++) {
                if (pending_queue[i] != q)
                    continue;
                struct nlmsghdr *nlh = nfq_nlmsg_put(buf + used, NFQNL_MSG_VERDICT, (uint32_t)(first_queue + q));
                nfq_nlmsg_verdict_put(nlh, (int)pending_id[i], NF_ACCEPT);
                used += MNL_ALIGN(nlh->nlmsg_len);
                single_verdicts++;
            }
        }
        /* After a gap (a lost id), batches resume from the highest id verdicted. */
        s->next_expected = s->last + 1;
        if (s->next_expected == 0)
            s->next_expected = 1;
        s->count = 0;
    }
    npending = 0;
    sends++;
    if (mnl_socket_sendto(nl, buf, used) < 0)
        send_errors++;
}

static void on_message(const struct nlmsghdr *nlh)
{
    if (nlh->nlmsg_type == NLMSG_ERROR) {
        const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
        if (e->error != 0)
            kernel_errors++;
        return;
    }
    if (nlh->nlmsg_type != ((NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET))
        return;
    struct nlattr *attr[NFQA_MAX + 1];
    memset(attr, 0, sizeof(attr));
    if (nfq_nlmsg_parse(nlh, attr) < 0 || attr[NFQA_PACKET_HDR] == NULL)
        return;
    const struct nfgenmsg *nfg = mnl_nlmsg_get_payload(nlh);
    int q = ntohs(nfg->res_id) - first_queue;
    if (q < 0 || q >= nqueues)
        return;
    const struct nfqnl_msg_packet_hdr *ph = mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);
    uint32_t id = ntohl(ph->packet_id);
    if (attr[NFQA_PAYLOAD])
        payload_bytes += mnl_attr_get_payload_len(attr[NFQA_PAYLOAD]);
    packets++;
    if (npending == MAX_BATCH)
        flush_verdicts(); /* only if a datagram ever carried several packets */

    struct queue_state *s = &queues[q];
    if (s->count == 0) {
        s->first = id;
        s->contiguous = 1;
    } else if (id != s->last + 1) {
        s->contiguous = 0;
    }
    s->last = id;
    s->count++;
    pending_id[npending] = id;
    pending_queue[npending] = (uint16_t)q;
    npending++;
}

int main(int argc, char **argv)
{
    long queue = -1, last_queue = -1, maxlen = 1024, rcvbuf = 64L << 20, batch = 64;
    int opt;
    while ((opt = getopt(argc, argv, "q:Q:m:r:b:")) != -1) {
        switch (opt) {
        case 'q': queue = parse_long(optarg, "queue", 0, 65535); break;
        case 'Q': last_queue = parse_long(optarg, "last queue", 0, 65535); break;
        case 'm': maxlen = parse_long(optarg, "max-length", 1, 1L << 20); break;
        case 'r': rcvbuf = parse_long(optarg, "rcvbuf", 65536, 1L << 30); break;
        case 'b': batch = parse_long(optarg, "batch", 1, MAX_BATCH); break;
        default:
            goto usage;
        }
    }
    if (queue < 0 || optind != argc)
        goto usage;
    if (last_queue < 0)
        last_queue = queue;
    if (last_queue < queue || last_queue - queue >= MAX_QUEUES)
        goto usage;
    first_queue = (int)queue;
    nqueues = (int)(last_queue - queue + 1);

    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
    if (nl == NULL || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
        perror("nfq_best: netlink socket");
        return 1;
    }
    int fd = mnl_socket_get_fd(nl);
    int size = (int)rcvbuf;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0) {
        perror("nfq_best: SO_RCVBUFFORCE");
        return 1;
    }
    for (int q = 0; q < nqueues; q++) {
        if (configure((uint16_t)(first_queue + q), (uint32_t)maxlen) < 0) {
            fprintf(stderr, "nfq_best: bind queue %d: %s\n", first_queue + q, strerror(errno));
            return 1;
        }
    }

    char *slots = malloc((size_t)batch * SLOT_SIZE);
    struct iovec *iovs = calloc((size_t)batch, sizeof(*iovs));
    struct mmsghdr *msgs = calloc((size_t)batch, sizeof(*msgs));
    if (slots == NULL || iovs == NULL || msgs == NULL) {
        perror("nfq_best: malloc");
        return 1;
    }
    for (long i = 0; i < batch; i++) {
        iovs[i].iov_base = slots + i * SLOT_SIZE;
        iovs[i].iov_len = SLOT_SIZE;
        msgs[i].msg_hdr.msg_iov = &iovs[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
    }

    if (nqueues == 1)
        printf("BOUND queue=%d\n", first_queue);
    else
        printf("BOUND queue=%d..%d\n", first_queue, first_queue + nqueues - 1);
    fflush(stdout);

    while (!stop) {
        int n = recvmmsg(fd, msgs, (unsigned int)batch, MSG_DONTWAIT, NULL);
        recv_calls++;
        if (n > 0) {
            for (int i = 0; i < n; i++) {
                const struct nlmsghdr *nlh = iovs[i].iov_base;
                int remaining = (int)msgs[i].msg_len;
                while (mnl_nlmsg_ok(nlh, remaining)) {
                    on_message(nlh);
                    nlh = mnl_nlmsg_next(nlh, &remaining);
                }
            }
            flush_verdicts();
            continue;
        }
        if (n < 0 && errno == ENOBUFS) {
            enobufs++;
            continue;
        }
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            perror("nfq_best: recvmmsg");
            break;
        }
        /* Nothing to read: nothing is pending either (flushed after every read); wait. */
        empty_polls++;
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        poll(&pfd, 1, 200);
    }
    flush_verdicts();
    fprintf(stderr,
            "nfq_best: packets=%llu payload_bytes=%llu recv_calls=%llu empty_polls=%llu sends=%llu "
            "batch_verdicts=%llu single_verdicts=%llu send_errors=%llu kernel_errors=%llu enobufs=%llu\n",
            packets, payload_bytes, recv_calls, empty_polls, sends, batch_verdicts, single_verdicts, send_errors,
            kernel_errors, enobufs);
    mnl_socket_close(nl);
    return 0;
usage:
    fprintf(stderr, "usage: %s -q QUEUE [-Q LAST_QUEUE] [-b BATCH (64)] [-m MAXLEN (1024)] [-r RCVBUF (64 MiB)]\n",
            argv[0]);
    return 2;
}
