/*
 * nfqueue_jni_verdict: one JNI call turns a batch of verdict records (written by Java into
 * the transmit buffer) into NFQNL_MSG_VERDICT / NFQNL_MSG_VERDICT_BATCH messages and sends
 * them in as few sendto() calls as the send buffer allows. Several netlink messages in one
 * datagram are processed one after the other by netlink_rcv_skb.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <linux/netlink.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

#include "nfqueue_jni_internal.h"

/* Kernel limit on a replacement payload: 0xffff minus the attribute header. */
#define MAX_VERDICT_PAYLOAD 65531
/* Header room per verdict message: nlmsghdr + nfgenmsg + verdict hdr + mark attribute +
 * conntrack nest with mark and mask + payload attribute header, rounded up. */
#define MESSAGE_OVERHEAD 128

static int flush(const struct nfq_jni_socket *s, size_t used)
{
    /* A synthetic handle built the messages (the work a warm-up is for) and has nowhere to send them. */
    if (used == 0 || s->synthetic)
        return 0;
    struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
    for (;;) {
        if (sendto(s->fd, s->send_buf, used, 0, (struct sockaddr *)&kernel, sizeof(kernel)) >= 0)
            return 0;
        if (errno != EINTR)
            return -errno;
    }
}

static size_t record_size(int32_t payload_length)
{
    size_t size = sizeof(struct nfq_jni_verdict) + (size_t)(payload_length > 0 ? payload_length : 0);
    return (size + 7) & ~(size_t)7;
}

/* Sends count verdict records. Returns count, or -errno of the first failure (records
 * before the failing datagram were sent). -EINVAL, without sending anything, when a record
 * is malformed: Java validates first, this only keeps bad input away from memory. */
static jint JNICALL nfqueue_send_verdicts(JNIEnv *env, jclass cls, jlong handle, jint count)
{
    (void)cls;
    struct nfq_jni_socket *s = nfq_jni_socket_of(env, handle);
    if (s == NULL)
        return -EBADF;
    if (s->tx == NULL) {
        nfq_jni_throw_illegal(env, "send before attach");
        return -EINVAL;
    }
    /* Validate the whole batch before sending any of it. */
    size_t offset = 0;
    for (int i = 0; i < count; i++) {
        if (offset + sizeof(struct nfq_jni_verdict) > (size_t)s->tx_capacity)
            return -EINVAL;
        const struct nfq_jni_verdict *v = (const struct nfq_jni_verdict *)(s->tx + offset);
        if (v->payload_length < 0 || v->payload_length > MAX_VERDICT_PAYLOAD || v->queue < 0 || v->queue > 65535)
            return -EINVAL;
        if ((v->flags & NFQ_JNI_VERDICT_BATCH) && (v->flags & (NFQ_JNI_VERDICT_HAS_PAYLOAD | NFQ_JNI_VERDICT_HAS_CONNMARK)))
            return -EINVAL;
        size_t size = record_size(v->payload_length);
        if (offset + size > (size_t)s->tx_capacity)
            return -EINVAL;
        offset += size;
    }

    size_t used = 0;
    offset = 0;
    for (int i = 0; i < count; i++) {
        const struct nfq_jni_verdict *v = (const struct nfq_jni_verdict *)(s->tx + offset);
        offset += record_size(v->payload_length);
        int with_payload = (v->flags & NFQ_JNI_VERDICT_HAS_PAYLOAD) != 0;
        size_t need = MESSAGE_OVERHEAD + (with_payload ? MNL_ALIGN((size_t)v->payload_length) : 0);
        if (used + need > (size_t)s->send_capacity) {
            int err = flush(s, used);
            if (err < 0)
                return err;
            used = 0;
        }
        char *buf = (char *)s->send_buf + used;
        memset(buf, 0, MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct nfgenmsg)));
        int type = (v->flags & NFQ_JNI_VERDICT_BATCH) ? NFQNL_MSG_VERDICT_BATCH : NFQNL_MSG_VERDICT;
        struct nlmsghdr *nlh = nfq_nlmsg_put(buf, type, (uint32_t)v->queue);
        /* The id as sequence number: an error ack then names the packet it is about. */
        nlh->nlmsg_seq = v->id;
        nfq_nlmsg_verdict_put(nlh, (int)v->id, (int)v->verdict);
        if (v->flags & NFQ_JNI_VERDICT_HAS_MARK)
            nfq_nlmsg_verdict_put_mark(nlh, v->mark);
        if (v->flags & NFQ_JNI_VERDICT_HAS_CONNMARK) {
            /* The kernel's glue sets mark = (old & ~CTA_MARK_MASK) ^ CTA_MARK: the bits outside
             * the mask belong to other programs and stay. */
            struct nlattr *ct = mnl_attr_nest_start(nlh, NFQA_CT);
            mnl_attr_put_u32(nlh, CTA_MARK, htonl(v->connmark));
            mnl_attr_put_u32(nlh, CTA_MARK_MASK, htonl(v->connmark_mask));
            mnl_attr_nest_end(nlh, ct);
        }
        if (with_payload)
            nfq_nlmsg_verdict_put_pkt(nlh, (const uint8_t *)v + sizeof(*v), (uint32_t)v->payload_length);
        used += MNL_ALIGN(nlh->nlmsg_len);
    }
    int err = flush(s, used);
    return err < 0 ? err : count;
}

static const JNINativeMethod methods[] = {
    {"sendVerdicts", "(JI)I", (void *)nfqueue_send_verdicts},
};

int nfq_jni_register_verdict(JNIEnv *env, jclass natives)
{
    return (*env)->RegisterNatives(env, natives, methods, sizeof(methods) / sizeof(methods[0])) != 0;
}
