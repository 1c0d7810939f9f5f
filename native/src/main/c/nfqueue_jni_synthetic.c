/*
 * nfqueue_jni_synthetic: a handle with no socket behind it, for warming up a JVM before it binds
 * a queue. Its receive replays packet messages built here exactly as the kernel lays them out
 * (so the record decoding in nfqueue_jni_receive.c and everything after it in Java runs as it
 * will for real packets), its verdicts are validated and turned into netlink messages as usual
 * and then discarded, and its configuration calls succeed without doing anything. It needs no
 * privilege and touches no kernel queue.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

#include "nfqueue_jni_internal.h"

/* Room for the headers and attributes around a template's payload. */
#define TEMPLATE_OVERHEAD 256
/* A kernel packet message cannot carry more than this in NFQA_PAYLOAD. */
#define MAX_TEMPLATE_PAYLOAD 65531
#define MAX_TEMPLATES 64

/* Builds one NFQNL_MSG_PACKET: the packet header, the devices the hook has, a mark and the
 * socket owner on every other template (so both ways of each attribute branch are taken), the
 * packet info (NFQA_SKB_INFO) when skb_info is not 0, and the payload. Returns 0 or -ENOMEM. */
static int build_template(struct nfq_jni_template *t, int queue, int hook, int copy_range, int index,
                          uint32_t skb_info, const uint8_t *payload, size_t payload_length)
{
    size_t capacity = TEMPLATE_OVERHEAD + MNL_ALIGN(payload_length);
    uint8_t *buf = calloc(1, capacity);
    if (buf == NULL)
        return -ENOMEM;
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET;
    struct nfgenmsg *nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
    nfg->nfgen_family = AF_UNSPEC;
    nfg->version = NFNETLINK_V0;
    nfg->res_id = htons((uint16_t)queue);

    int ipv6 = payload_length > 0 && (payload[0] >> 4) == 6;
    struct nfqnl_msg_packet_hdr ph = {
        .packet_id = 0,
        .hw_protocol = htons(ipv6 ? 0x86dd : 0x0800),
        .hook = (uint8_t)hook,
    };
    t->id_offset = nlh->nlmsg_len + MNL_ATTR_HDRLEN + offsetof(struct nfqnl_msg_packet_hdr, packet_id);
    mnl_attr_put(nlh, NFQA_PACKET_HDR, sizeof(ph), &ph);
    if (index % 2 == 1)
        mnl_attr_put_u32(nlh, NFQA_MARK, htonl(0x10));
    if (hook == NF_INET_PRE_ROUTING || hook == NF_INET_LOCAL_IN || hook == NF_INET_FORWARD)
        mnl_attr_put_u32(nlh, NFQA_IFINDEX_INDEV, htonl(1));
    if (hook == NF_INET_LOCAL_OUT || hook == NF_INET_POST_ROUTING || hook == NF_INET_FORWARD)
        mnl_attr_put_u32(nlh, NFQA_IFINDEX_OUTDEV, htonl(1));
    if (index % 2 == 0) {
        mnl_attr_put_u32(nlh, NFQA_UID, htonl(1000));
        mnl_attr_put_u32(nlh, NFQA_GID, htonl(1000));
    }
    if (skb_info != 0)
        mnl_attr_put_u32(nlh, NFQA_SKB_INFO, htonl(skb_info));
    /* As the kernel copies: at most copy_range bytes, the full length in NFQA_CAP_LEN when cut,
     * no payload at all for a metadata-only queue (copy range 0). */
    size_t copied = payload_length < (size_t)copy_range ? payload_length : (size_t)copy_range;
    if (copied > 0)
        mnl_attr_put(nlh, NFQA_PAYLOAD, copied, payload);
    /* The kernel sends the full length only with a copy of the packet cut short, never with
     * metadata alone (copy mode META: copy range 0 here). */
    if (copied > 0 && copied < payload_length)
        mnl_attr_put_u32(nlh, NFQA_CAP_LEN, htonl((uint32_t)payload_length));
    t->message = buf;
    t->length = nlh->nlmsg_len;
    return 0;
}

void nfq_jni_synthetic_free(struct nfq_jni_socket *s)
{
    for (int i = 0; i < s->template_count; i++)
        free(s->templates[i].message);
    free(s->templates);
    s->templates = NULL;
    s->template_count = 0;
}

int nfq_jni_synthetic_fill(struct nfq_jni_socket *s, int n)
{
    /* A real socket holds anything from nothing to a full batch. Code compiled on full batches
     * alone is compiled again when the first single packet or empty read comes (the JIT removes
     * branches it never saw taken), which is what a warm-up is to avoid: so some reads give one
     * packet, some half a batch, some none (the caller then waits, and the wait returns at once). */
    uint32_t read = s->reads++;
    if (read % 16 == 15)
        n = 0;
    else if (read % 4 == 1)
        n = n > 0 ? 1 : 0;
    else if (read % 4 == 3)
        n = n > 1 ? n / 2 : n;
    uint64_t remaining = __atomic_load_n(&s->remaining, __ATOMIC_RELAXED);
    if ((uint64_t)n > remaining)
        n = (int)remaining;
    __atomic_store_n(&s->remaining, remaining - (uint64_t)n, __ATOMIC_RELAXED);
    for (int i = 0; i < n; i++) {
        const struct nfq_jni_template *t = &s->templates[s->next_template];
        s->next_template = (s->next_template + 1) % (uint32_t)s->template_count;
        size_t length = t->length;
        int flags = 0;
        if (length > (size_t)s->slot_size) {
            /* What recvmmsg does with a datagram larger than its slot. */
            length = (size_t)s->slot_size;
            flags = MSG_TRUNC;
        }
        uint8_t *slot = s->iovs[i].iov_base;
        memcpy(slot, t->message, length);
        if (t->id_offset + sizeof(uint32_t) <= length) {
            uint32_t id = htonl(s->next_id);
            memcpy(slot + t->id_offset, &id, sizeof(id));
        }
        /* Packet ids start at 1 and never are 0, as the kernel's. */
        s->next_id = s->next_id == UINT32_MAX ? 1 : s->next_id + 1;
        s->msgs[i].msg_len = (unsigned int)length;
        s->msgs[i].msg_hdr.msg_flags = flags;
    }
    return n;
}

/* openSynthetic(queue, hook, copyRange, packets, skbInfo, count): a handle whose receive replays
 * the given IP packets round-robin as packets of that queue and hook, each with its NFQA_SKB_INFO
 * bits (0: none), copied as a queue with that copy range would (0: metadata only), count packets
 * in all; then it is an empty socket. Throws IllegalArgumentException for a bad
 * argument, ErrnoException when memory or an eventfd is not to be had. */
static jlong JNICALL nfqueue_open_synthetic(JNIEnv *env, jclass cls, jint queue, jint hook, jint copy_range,
                                            jobjectArray packets, jintArray skb_infos, jlong total)
{
    (void)cls;
    if (queue < 0 || queue > 65535 || hook < 0 || hook >= NF_INET_NUMHOOKS || copy_range < 0 || packets == NULL ||
        skb_infos == NULL || total < 0) {
        nfq_jni_throw_illegal(env, "synthetic queue: queue 0-65535, a hook of the inet family, a copy range >= 0, "
                                   "packets, their packet info and a count >= 0");
        return 0;
    }
    jsize count = (*env)->GetArrayLength(env, packets);
    if (count < 1 || count > MAX_TEMPLATES || (*env)->GetArrayLength(env, skb_infos) != count) {
        nfq_jni_throw_illegal(env, "synthetic queue: 1 to 64 packets, and packet info for each");
        return 0;
    }
    jint info[MAX_TEMPLATES];
    (*env)->GetIntArrayRegion(env, skb_infos, 0, count, info);
    struct nfq_jni_socket *s = calloc(1, sizeof(*s));
    struct nfq_jni_template *templates = calloc((size_t)count, sizeof(*templates));
    uint8_t *send_buf = malloc(NFQ_JNI_SEND_CAPACITY);
    int wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    int err = wake_fd < 0 ? errno : 0;
    if (s == NULL || templates == NULL || send_buf == NULL)
        err = ENOMEM;
    if (err != 0) {
        if (wake_fd >= 0)
            close(wake_fd);
        free(s);
        free(templates);
        free(send_buf);
        nfq_jni_throw_errno(env, err == ENOMEM ? "allocate synthetic queue" : "eventfd", err);
        return 0;
    }
    s->fd = -1;
    s->wake_fd = wake_fd;
    s->synthetic = 1;
    s->next_id = 1;
    s->remaining = (uint64_t)total;
    s->send_buf = send_buf;
    s->send_capacity = NFQ_JNI_SEND_CAPACITY;
    s->templates = templates;
    for (jsize i = 0; i < count && err == 0; i++) {
        jbyteArray packet = (jbyteArray)(*env)->GetObjectArrayElement(env, packets, i);
        if (packet == NULL) {
            err = EINVAL;
            break;
        }
        jsize length = (*env)->GetArrayLength(env, packet);
        jbyte *bytes = length >= 1 && length <= MAX_TEMPLATE_PAYLOAD ? (*env)->GetByteArrayElements(env, packet, NULL)
                                                                     : NULL;
        if (bytes == NULL) {
            err = length >= 1 && length <= MAX_TEMPLATE_PAYLOAD ? ENOMEM : EINVAL;
        } else {
            err = -build_template(&templates[i], queue, hook, copy_range, (int)i, (uint32_t)info[i],
                                  (const uint8_t *)bytes, (size_t)length);
            (*env)->ReleaseByteArrayElements(env, packet, bytes, JNI_ABORT);
            if (err == 0)
                s->template_count = (int)i + 1;
        }
        (*env)->DeleteLocalRef(env, packet);
    }
    if (err != 0) {
        close(wake_fd);
        nfq_jni_synthetic_free(s);
        free(send_buf);
        free(s);
        if (err == EINVAL)
            nfq_jni_throw_illegal(env, "synthetic queue: each packet 1 to 65531 bytes, none null");
        else if (!(*env)->ExceptionCheck(env))
            nfq_jni_throw_errno(env, "allocate synthetic queue", err);
        return 0;
    }
    return (jlong)(intptr_t)s;
}

static const JNINativeMethod methods[] = {
    {"openSynthetic", "(III[[B[IJ)J", (void *)nfqueue_open_synthetic},
};

int nfq_jni_register_synthetic(JNIEnv *env, jclass natives)
{
    return (*env)->RegisterNatives(env, natives, methods, sizeof(methods) / sizeof(methods[0])) != 0;
}
