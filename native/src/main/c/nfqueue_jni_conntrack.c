/*
 * nfqueue_jni_conntrack: forgets flow decisions kept in conntrack marks (io.nfqueue.FlowDecisions).
 *
 * The library's flow offload marks a decided connection with `ct mark & mask == value`, and the
 * rules queue only `ct mark & mask == 0`. Forgetting clears the mask bits of every conntrack entry
 * of the calling thread's network namespace, so the next packet of each flow is queued again.
 * Entries are updated, never deleted: NAT bindings, TCP state and timeouts survive.
 *
 * Over ctnetlink (NETLINK_NETFILTER, subsystem NFNL_SUBSYS_CTNETLINK), not the conntrack tool:
 * conntrack 1.4.7's `-U -m 0/MASK` answers "Operation not supported" on the 6.18 kernel tried
 * (openwrt/openwrt#13307) because it sends back more of the entry than the update accepts.
 *
 *  1. IPCTNL_MSG_CT_GET with NLM_F_DUMP, family AF_UNSPEC (IPv4 and IPv6). The dump's own mark
 *     filter (CTA_MARK + CTA_MARK_MASK) selects `mark & mask == value`, an equality: it cannot say
 *     `mark & mask != 0` for a mask of several bits, so every entry is read and tested here.
 *     What is kept of a matching entry: its family, CTA_TUPLE_ORIG and CTA_ZONE (when present),
 *     as the kernel sent them, which is exactly what identifies it in an update.
 *  2. After the dump has ended (updating while the kernel still walks the table is avoided), one
 *     IPCTNL_MSG_CT_NEW without NLM_F_CREATE per entry (an update of an existing entry only), with
 *     CTA_MARK = 0 and CTA_MARK_MASK = mask and NLM_F_ACK. The kernel (ctnetlink_change_mark)
 *     computes newmark = (mark & ~CTA_MARK_MASK) ^ CTA_MARK, so only the mask bits are cleared.
 *     An entry that expired in between answers ENOENT: that is not an error.
 *
 * Every wait is bounded (a receive timeout on the socket), every loop has a cap, and the memory
 * kept for matching entries is capped (-ENOMEM beyond). Nothing here throws: the result is the
 * number of entries changed or -errno, and Java maps errno to its exceptions.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/netlink.h>

#include "nfqueue_jni_internal.h"

/* Receive buffer: the kernel sizes dump datagrams up to 32 KiB (netlink_dump); a larger buffer
 * never truncates one. MSG_TRUNC still tells if one ever was. */
#define RECV_BUFFER_SIZE (64 * 1024)
/* Matching entries kept between the dump and the updates: start small, double up to the cap.
 * An IPv6 entry takes about 100 bytes, so the cap holds over a million of them. */
#define ENTRIES_INITIAL (16 * 1024)
#define ENTRIES_CAP ((size_t)128 * 1024 * 1024)
/* Updates sent per datagram, and so acks waited for at once: 64 acks (error acks quote the whole
 * request, a few hundred bytes each) fit any receive buffer, so none is lost to ENOBUFS. */
#define UPDATES_PER_SEND 64
/* Room for one update: headers, the copied tuple and zone (each at most the attribute limit of
 * 64 KiB, in practice under 100 bytes: checked per entry), mark and mask. */
#define UPDATE_FIXED_ROOM 128
/* No answer from the kernel for this long ends the call with -ETIMEDOUT instead of a hang. */
#define RECV_TIMEOUT_SECONDS 5
/* Datagrams of one dump: far more than any conntrack table fills (each carries several entries). */
#define MAX_DUMP_DATAGRAMS (16 * 1024 * 1024)

/* One matching entry in the list: a header, then the tuple attribute, then the zone attribute. */
struct entry_header {
    uint16_t family;
    uint16_t tuple_len;   /* bytes of the CTA_TUPLE_ORIG attribute, header included, aligned */
    uint16_t zone_len;    /* bytes of the CTA_ZONE attribute, or 0 */
    uint16_t reserved;
};

struct entries {
    uint8_t *data;
    size_t used;
    size_t capacity;
    int count;
};

struct conn {
    int fd;
    uint32_t portid;
    uint32_t seq;
    uint8_t *buf;
};

static int open_conn(struct conn *c)
{
    c->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
    if (c->fd < 0)
        return -errno;   /* EPROTONOSUPPORT: no nfnetlink in this kernel */
    struct timeval timeout = {.tv_sec = RECV_TIMEOUT_SECONDS};
    struct sockaddr_nl local = {.nl_family = AF_NETLINK};
    socklen_t len = sizeof(local);
    if (setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout)) != 0 ||
        bind(c->fd, (struct sockaddr *)&local, sizeof(local)) != 0 ||
        getsockname(c->fd, (struct sockaddr *)&local, &len) != 0) {
        int err = errno;
        close(c->fd);
        return -err;
    }
    c->portid = local.nl_pid;
    /* Sequence numbers only need to tell this call's messages apart. */
    c->seq = 1;
    c->buf = malloc(RECV_BUFFER_SIZE);
    if (c->buf == NULL) {
        close(c->fd);
        return -ENOMEM;
    }
    return 0;
}

static void close_conn(struct conn *c)
{
    close(c->fd);
    free(c->buf);
}

static int send_all(const struct conn *c, const void *buf, size_t len)
{
    struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
    for (int attempt = 0; attempt < 100; attempt++) {
        if (sendto(c->fd, buf, len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) >= 0)
            return 0;
        if (errno != EINTR)
            return -errno;
    }
    return -EINTR;
}

/* One datagram into c->buf: its length, or -errno (-ETIMEDOUT when the kernel stays silent). */
static ssize_t receive(const struct conn *c)
{
    for (int attempt = 0; attempt < 100; attempt++) {
        ssize_t n = recv(c->fd, c->buf, RECV_BUFFER_SIZE, MSG_TRUNC);
        if (n > RECV_BUFFER_SIZE)
            return -EMSGSIZE;
        if (n >= 0)
            return n;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return -ETIMEDOUT;
        if (errno != EINTR)
            return -errno;
    }
    return -EINTR;
}

/* A message from the kernel to this socket, answering this call. */
static int ours(const struct conn *c, const struct nlmsghdr *nlh)
{
    return nlh->nlmsg_pid == c->portid || nlh->nlmsg_pid == 0;
}

static int add_entry(struct entries *list, uint16_t family, const struct nlattr *tuple, const struct nlattr *zone)
{
    size_t tuple_len = MNL_ALIGN(tuple->nla_len);
    size_t zone_len = zone == NULL ? 0 : MNL_ALIGN(zone->nla_len);
    if (tuple_len + zone_len > RECV_BUFFER_SIZE - UPDATE_FIXED_ROOM)
        return -EMSGSIZE;   /* not a tuple any kernel sends: refuse rather than overrun */
    size_t need = sizeof(struct entry_header) + tuple_len + zone_len;
    if (list->used + need > list->capacity) {
        size_t capacity = list->capacity == 0 ? ENTRIES_INITIAL : list->capacity;
        while (capacity < list->used + need && capacity < ENTRIES_CAP)
            capacity *= 2;
        if (capacity > ENTRIES_CAP)
            capacity = ENTRIES_CAP;
        if (list->used + need > capacity)
            return -ENOMEM;
        uint8_t *grown = realloc(list->data, capacity);
        if (grown == NULL)
            return -ENOMEM;
        list->data = grown;
        list->capacity = capacity;
    }
    struct entry_header h = {.family = family, .tuple_len = (uint16_t)tuple_len, .zone_len = (uint16_t)zone_len};
    uint8_t *p = list->data + list->used;
    memcpy(p, &h, sizeof(h));
    /* Copy nla_len bytes; the alignment padding after them is zeroed. */
    memset(p + sizeof(h), 0, tuple_len + zone_len);
    memcpy(p + sizeof(h), tuple, tuple->nla_len);
    if (zone != NULL)
        memcpy(p + sizeof(h) + tuple_len, zone, zone->nla_len);
    list->used += need;
    list->count++;
    return 0;
}

/* One entry of the dump: kept when mark & mask != 0. 0, or -errno. */
static int consider(const struct nlmsghdr *nlh, uint32_t mask, struct entries *list)
{
    if (nlh->nlmsg_len < MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct nfgenmsg)))
        return 0;
    const struct nfgenmsg *nfg = mnl_nlmsg_get_payload(nlh);
    const struct nlattr *tuple = NULL;
    const struct nlattr *zone = NULL;
    uint32_t mark = 0;   /* the kernel leaves CTA_MARK out when it is 0 */
    const struct nlattr *attr;
    mnl_attr_for_each(attr, nlh, sizeof(struct nfgenmsg)) {
        switch (mnl_attr_get_type(attr)) {
        case CTA_TUPLE_ORIG:
            tuple = attr;
            break;
        case CTA_ZONE:
            if (mnl_attr_get_payload_len(attr) >= sizeof(uint16_t))
                zone = attr;
            break;
        case CTA_MARK:
            if (mnl_attr_get_payload_len(attr) >= sizeof(uint32_t))
                mark = ntohl(mnl_attr_get_u32(attr));
            break;
        default:
            break;
        }
    }
    if ((mark & mask) == 0 || tuple == NULL)
        return 0;
    return add_entry(list, nfg->nfgen_family, tuple, zone);
}

/* Dumps the table and keeps the entries with mark & mask != 0. 0, or -errno. */
static int dump_matching(struct conn *c, uint32_t mask, struct entries *list)
{
    uint8_t request[MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct nfgenmsg))];
    memset(request, 0, sizeof(request));
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(request);
    nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET;
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    nlh->nlmsg_seq = c->seq;
    struct nfgenmsg *nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
    nfg->nfgen_family = AF_UNSPEC;   /* every family: IPv4 and IPv6 */
    nfg->version = NFNETLINK_V0;
    nfg->res_id = 0;
    int err = send_all(c, request, nlh->nlmsg_len);
    if (err < 0)
        return err;

    for (int datagrams = 0; datagrams < MAX_DUMP_DATAGRAMS; datagrams++) {
        ssize_t n = receive(c);
        if (n < 0)
            return (int)n;
        int len = (int)n;
        for (const struct nlmsghdr *m = (const struct nlmsghdr *)c->buf; mnl_nlmsg_ok(m, len);
             m = mnl_nlmsg_next(m, &len)) {
            if (m->nlmsg_seq != c->seq || !ours(c, m))
                continue;   /* not an answer to this dump */
            if (m->nlmsg_type == NLMSG_DONE) {
                /* A dump that failed part-way ends with DONE carrying the negative errno. */
                if (m->nlmsg_len >= MNL_NLMSG_HDRLEN + sizeof(int32_t)) {
                    int32_t status;
                    memcpy(&status, mnl_nlmsg_get_payload(m), sizeof(status));
                    if (status < 0)
                        return status;
                }
                return 0;
            }
            if (m->nlmsg_type == NLMSG_ERROR) {
                const struct nlmsgerr *e = mnl_nlmsg_get_payload(m);
                if (m->nlmsg_len < MNL_NLMSG_HDRLEN + sizeof(*e))
                    return -EPROTO;
                if (e->error == -EINVAL)
                    /* nfnetlink answers EINVAL to a well-formed request for a subsystem that is
                     * not registered (nfnetlink_rcv_msg): this kernel has no ctnetlink. Said as
                     * EPROTONOSUPPORT so that Java can name the missing module. */
                    return -EPROTONOSUPPORT;
                return e->error < 0 ? e->error : -EPROTO;
            }
            if (m->nlmsg_type == ((NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_NEW)) {
                err = consider(m, mask, list);
                if (err < 0)
                    return err;
            }
        }
    }
    return -E2BIG;
}

/* Appends the update of one entry to buf at *used. */
static void put_update(struct conn *c, uint8_t *buf, size_t *used, const struct entry_header *h,
                       const uint8_t *attrs, uint32_t mask)
{
    uint8_t *start = buf + *used;
    memset(start, 0, MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct nfgenmsg)));
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(start);
    nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_NEW;
    /* No NLM_F_CREATE: the kernel updates the entry with this tuple, or answers ENOENT. */
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
    nlh->nlmsg_seq = ++c->seq;
    struct nfgenmsg *nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
    /* The entry's own family: the kernel parses the tuple's addresses by it. */
    nfg->nfgen_family = (uint8_t)h->family;
    nfg->version = NFNETLINK_V0;
    nfg->res_id = 0;
    /* The tuple (and zone) exactly as the dump gave them. */
    memcpy((uint8_t *)nlh + nlh->nlmsg_len, attrs, (size_t)h->tuple_len + h->zone_len);
    nlh->nlmsg_len += (uint32_t)h->tuple_len + h->zone_len;
    mnl_attr_put_u32(nlh, CTA_MARK, htonl(0));
    mnl_attr_put_u32(nlh, CTA_MARK_MASK, htonl(mask));
    *used += MNL_ALIGN(nlh->nlmsg_len);
}

/* Waits for the acks of updates first_seq..last_seq; adds the successes to *changed. 0, or the
 * first -errno other than ENOENT (the entry expired after the dump: nothing to forget). */
static int collect_acks(const struct conn *c, uint32_t first_seq, uint32_t last_seq, int *changed)
{
    int expected = (int)(last_seq - first_seq + 1);
    int first_error = 0;
    /* Each datagram holds at least one ack; more datagrams than acks cannot be ours. */
    for (int datagrams = 0; expected > 0 && datagrams < 4 * UPDATES_PER_SEND; datagrams++) {
        ssize_t n = receive(c);
        if (n < 0)
            return (int)n;
        int len = (int)n;
        for (const struct nlmsghdr *m = (const struct nlmsghdr *)c->buf; mnl_nlmsg_ok(m, len);
             m = mnl_nlmsg_next(m, &len)) {
            if (m->nlmsg_type != NLMSG_ERROR || !ours(c, m) || m->nlmsg_seq - first_seq > last_seq - first_seq)
                continue;
            const struct nlmsgerr *e = mnl_nlmsg_get_payload(m);
            if (m->nlmsg_len < MNL_NLMSG_HDRLEN + sizeof(*e))
                return -EPROTO;
            expected--;
            if (e->error == 0)
                (*changed)++;
            else if (e->error != -ENOENT && first_error == 0)
                first_error = e->error < 0 ? e->error : -EPROTO;
        }
    }
    if (expected > 0)
        return -ETIMEDOUT;
    return first_error;
}

/* Sends the updates in datagrams of UPDATES_PER_SEND and counts the entries changed. */
static int update_all(struct conn *c, const struct entries *list, uint32_t mask)
{
    size_t offset = 0;
    int changed = 0;
    int done = 0;
    uint8_t *batch = malloc(RECV_BUFFER_SIZE);
    if (batch == NULL)
        return -ENOMEM;
    while (done < list->count) {
        size_t used = 0;
        uint32_t first_seq = c->seq + 1;
        int in_batch = 0;
        while (done + in_batch < list->count && in_batch < UPDATES_PER_SEND) {
            struct entry_header h;
            memcpy(&h, list->data + offset, sizeof(h));
            size_t room = UPDATE_FIXED_ROOM + h.tuple_len + h.zone_len;
            if (in_batch > 0 && used + room > RECV_BUFFER_SIZE)
                break;
            put_update(c, batch, &used, &h, list->data + offset + sizeof(h), mask);
            offset += sizeof(h) + h.tuple_len + h.zone_len;
            in_batch++;
        }
        int err = send_all(c, batch, used);
        if (err == 0)
            err = collect_acks(c, first_seq, c->seq, &changed);
        if (err < 0) {
            free(batch);
            return err;
        }
        done += in_batch;
    }
    free(batch);
    return changed;
}

/* Clears the mask bits of the ct mark of every entry of this thread's namespace that has any of
 * them set. Returns how many entries were changed, or -errno. */
static jint JNICALL nfqueue_clear_connmarks(JNIEnv *env, jclass cls, jint mask)
{
    (void)env;
    (void)cls;
    if (mask == 0)
        return -EINVAL;   /* Java refuses it first; nothing would match */
    struct conn c = {.fd = -1};
    int rc = open_conn(&c);
    if (rc < 0)
        return rc;
    struct entries list = {0};
    rc = dump_matching(&c, (uint32_t)mask, &list);
    if (rc == 0)
        rc = update_all(&c, &list, (uint32_t)mask);
    free(list.data);
    close_conn(&c);
    return rc;
}

static const JNINativeMethod methods[] = {
    {"clearConnmarks", "(I)I", (void *)nfqueue_clear_connmarks},
};

int nfq_jni_register_conntrack(JNIEnv *env, jclass natives)
{
    return (*env)->RegisterNatives(env, natives, methods, sizeof(methods) / sizeof(methods[0])) != 0;
}
