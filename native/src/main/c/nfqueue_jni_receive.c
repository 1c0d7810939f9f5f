/*
 * nfqueue_jni_receive: one JNI call reads up to a batch of datagrams with recvmmsg and
 * decodes every netlink message into a fixed-layout record (nfqueue_jni.h). Payloads are not
 * copied: records point into the Java-owned receive buffer.
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

#include "nfqueue_jni_internal.h"

static int32_t offset_in_rx(const struct nfq_jni_socket *s, const void *p)
{
    return (int32_t)((const uint8_t *)p - s->rx);
}

static void decode_packet(const struct nfq_jni_socket *s, const struct nlmsghdr *nlh,
                          struct nfq_jni_record *r)
{
    struct nlattr *attr[NFQA_MAX + 1];
    memset(attr, 0, sizeof(attr));
    /* Attributes that fail validation stay NULL; the packet header is checked below. */
    nfq_nlmsg_parse(nlh, attr);
    const struct nfgenmsg *nfg = mnl_nlmsg_get_payload(nlh);

    memset(r, 0, sizeof(*r));
    r->type = NFQ_JNI_REC_PACKET;
    r->queue = ntohs(nfg->res_id);
    if (attr[NFQA_PACKET_HDR] == NULL) {
        /* Without a header there is no id to give a verdict to: report it as an error. */
        r->type = NFQ_JNI_REC_ERROR;
        r->error = EPROTO;
        r->error_msg_type = nlh->nlmsg_type;
        return;
    }
    const struct nfqnl_msg_packet_hdr *ph = mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);
    r->id = ntohl(ph->packet_id);
    r->hw_protocol = ntohs(ph->hw_protocol);
    r->hook = ph->hook;

    int present = 0;
    if (attr[NFQA_MARK]) {
        r->mark = ntohl(mnl_attr_get_u32(attr[NFQA_MARK]));
        present |= NFQ_JNI_HAS_MARK;
    }
    if (attr[NFQA_TIMESTAMP]) {
        /* Attribute payloads are only 4-byte aligned; the struct wants 8: copy, don't cast. */
        struct nfqnl_msg_packet_timestamp ts;
        memcpy(&ts, mnl_attr_get_payload(attr[NFQA_TIMESTAMP]), sizeof(ts));
        r->ts_sec = (int64_t)be64toh(ts.sec);
        r->ts_usec = (int64_t)be64toh(ts.usec);
        present |= NFQ_JNI_HAS_TIMESTAMP;
    }
    if (attr[NFQA_IFINDEX_INDEV]) {
        r->indev = (int32_t)ntohl(mnl_attr_get_u32(attr[NFQA_IFINDEX_INDEV]));
        present |= NFQ_JNI_HAS_INDEV;
    }
    if (attr[NFQA_IFINDEX_OUTDEV]) {
        r->outdev = (int32_t)ntohl(mnl_attr_get_u32(attr[NFQA_IFINDEX_OUTDEV]));
        present |= NFQ_JNI_HAS_OUTDEV;
    }
    if (attr[NFQA_IFINDEX_PHYSINDEV]) {
        r->physindev = (int32_t)ntohl(mnl_attr_get_u32(attr[NFQA_IFINDEX_PHYSINDEV]));
        present |= NFQ_JNI_HAS_PHYSINDEV;
    }
    if (attr[NFQA_IFINDEX_PHYSOUTDEV]) {
        r->physoutdev = (int32_t)ntohl(mnl_attr_get_u32(attr[NFQA_IFINDEX_PHYSOUTDEV]));
        present |= NFQ_JNI_HAS_PHYSOUTDEV;
    }
    if (attr[NFQA_HWADDR]) {
        const struct nfqnl_msg_packet_hw *hw = mnl_attr_get_payload(attr[NFQA_HWADDR]);
        int len = ntohs(hw->hw_addrlen);
        if (len > (int)sizeof(r->hwaddr))
            len = (int)sizeof(r->hwaddr);
        r->hwaddr_length = len;
        memcpy(r->hwaddr, hw->hw_addr, (size_t)len);
        present |= NFQ_JNI_HAS_HWADDR;
    }
    if (attr[NFQA_UID]) {
        r->uid = ntohl(mnl_attr_get_u32(attr[NFQA_UID]));
        present |= NFQ_JNI_HAS_UID;
    }
    if (attr[NFQA_GID]) {
        r->gid = ntohl(mnl_attr_get_u32(attr[NFQA_GID]));
        present |= NFQ_JNI_HAS_GID;
    }
    if (attr[NFQA_SECCTX]) {
        r->secctx_offset = offset_in_rx(s, mnl_attr_get_payload(attr[NFQA_SECCTX]));
        r->secctx_length = (int32_t)mnl_attr_get_payload_len(attr[NFQA_SECCTX]);
        present |= NFQ_JNI_HAS_SECCTX;
    }
    if (attr[NFQA_CT]) {
        r->ct_offset = offset_in_rx(s, mnl_attr_get_payload(attr[NFQA_CT]));
        r->ct_length = (int32_t)mnl_attr_get_payload_len(attr[NFQA_CT]);
        present |= NFQ_JNI_HAS_CT;
    }
    if (attr[NFQA_CT_INFO]) {
        r->ctinfo = ntohl(mnl_attr_get_u32(attr[NFQA_CT_INFO]));
        present |= NFQ_JNI_HAS_CTINFO;
    }
    if (attr[NFQA_SKB_INFO]) {
        r->skbinfo = ntohl(mnl_attr_get_u32(attr[NFQA_SKB_INFO]));
        present |= NFQ_JNI_HAS_SKBINFO;
    }
    if (attr[NFQA_PAYLOAD]) {
        r->payload_offset = offset_in_rx(s, mnl_attr_get_payload(attr[NFQA_PAYLOAD]));
        r->payload_length = (int32_t)mnl_attr_get_payload_len(attr[NFQA_PAYLOAD]);
        present |= NFQ_JNI_HAS_PAYLOAD;
    }
    /* NFQA_CAP_LEN comes only when the copy was cut short and carries the full length. */
    if (attr[NFQA_CAP_LEN]) {
        r->original_length = (int32_t)ntohl(mnl_attr_get_u32(attr[NFQA_CAP_LEN]));
        present |= NFQ_JNI_HAS_CAPLEN;
    } else {
        r->original_length = r->payload_length;
    }
    r->present = present;
}

/* A datagram larger than its slot: the packet header is the first attribute the kernel
 * writes, so its id is still readable and Java can give the packet a verdict. */
static int decode_truncated(const uint8_t *buf, size_t len, struct nfq_jni_record *r)
{
    size_t need = sizeof(struct nlmsghdr) + sizeof(struct nfgenmsg) + sizeof(struct nlattr) +
                  sizeof(struct nfqnl_msg_packet_hdr);
    const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
    if (len < need || nlh->nlmsg_type != ((NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET))
        return 0;
    const struct nfgenmsg *nfg = mnl_nlmsg_get_payload(nlh);
    const struct nlattr *a = (const struct nlattr *)((const uint8_t *)nfg + MNL_ALIGN(sizeof(*nfg)));
    if ((a->nla_type & NLA_TYPE_MASK) != NFQA_PACKET_HDR)
        return 0;
    const struct nfqnl_msg_packet_hdr *ph = mnl_attr_get_payload(a);
    memset(r, 0, sizeof(*r));
    r->type = NFQ_JNI_REC_TRUNCATED;
    r->id = ntohl(ph->packet_id);
    r->queue = ntohs(nfg->res_id);
    r->hw_protocol = ntohs(ph->hw_protocol);
    r->hook = ph->hook;
    return 1;
}

/* Decodes one datagram; returns how many records it wrote (at most room). */
static int decode_datagram(const struct nfq_jni_socket *s, const uint8_t *buf, size_t len, int truncated,
                           struct nfq_jni_record *out, int room)
{
    if (truncated)
        return room > 0 ? decode_truncated(buf, len, out) : 0;
    int written = 0;
    const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
    int remaining = (int)len;
    while (mnl_nlmsg_ok(nlh, remaining) && written < room) {
        struct nfq_jni_record *r = &out[written];
        if (nlh->nlmsg_type == NLMSG_ERROR) {
            const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
            if (e->error != 0) {
                memset(r, 0, sizeof(*r));
                r->type = NFQ_JNI_REC_ERROR;
                r->error = -e->error;
                r->error_msg_type = e->msg.nlmsg_type;
                r->id = e->msg.nlmsg_seq;
                written++;
            }
            /* error 0 is the ack of a config message that a packet overtook: nothing to do. */
        } else if (nlh->nlmsg_type == ((NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET)) {
            decode_packet(s, nlh, r);
            written++;
        }
        nlh = mnl_nlmsg_next(nlh, &remaining);
    }
    return written;
}

/* Reads what is ready, without blocking, up to max_datagrams. Returns the number of records
 * written, 0 when nothing was ready, or -errno (-ENOBUFS: the kernel dropped messages for
 * want of socket buffer; the caller counts it and simply reads again). */
static jint JNICALL nfqueue_receive(JNIEnv *env, jclass cls, jlong handle, jint max_datagrams)
{
    (void)cls;
    struct nfq_jni_socket *s = nfq_jni_socket_of(env, handle);
    if (s == NULL)
        return -EBADF;
    if (s->msgs == NULL) {
        nfq_jni_throw_illegal(env, "receive before attach");
        return -EINVAL;
    }
    int n = max_datagrams;
    if (n > s->slots)
        n = s->slots;
    if (n > s->record_capacity)
        n = s->record_capacity;
    if (n <= 0)
        return 0;
    for (int i = 0; i < n; i++) {
        s->msgs[i].msg_hdr.msg_flags = 0;
        s->msgs[i].msg_len = 0;
    }
    int got;
    if (s->synthetic) {
        got = nfq_jni_synthetic_fill(s, n);
    } else {
        do {
            got = recvmmsg(s->fd, s->msgs, (unsigned int)n, MSG_DONTWAIT, NULL);
        } while (got < 0 && errno == EINTR);
        if (got < 0)
            return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -errno;
    }

    struct nfq_jni_record *records = (struct nfq_jni_record *)s->records;
    int written = 0;
    for (int i = 0; i < got; i++) {
        const uint8_t *buf = s->iovs[i].iov_base;
        int truncated = (s->msgs[i].msg_hdr.msg_flags & MSG_TRUNC) != 0;
        written += decode_datagram(s, buf, s->msgs[i].msg_len, truncated, &records[written],
                                   s->record_capacity - written);
    }
    return written;
}

static const JNINativeMethod methods[] = {
    {"receive", "(JI)I", (void *)nfqueue_receive},
};

int nfq_jni_register_receive(JNIEnv *env, jclass natives)
{
    return (*env)->RegisterNatives(env, natives, methods, sizeof(methods) / sizeof(methods[0])) != 0;
}
