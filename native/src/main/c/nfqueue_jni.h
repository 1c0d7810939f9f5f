/*
 * nfqueue_jni: the record layouts shared by the C shim and io.nfqueue.internal.
 *
 * Java never retypes these offsets or constants: it reads each of them by name through
 * Natives.constant(String) when the library loads (see nfqueue_jni_constants.c), so the
 * struct below is the single definition.
 */
#ifndef NFQUEUE_JNI_H
#define NFQUEUE_JNI_H

#include <stdint.h>

/* One received netlink message, decoded. Written by nfqueue_receive() into the Java-owned
 * records buffer; variable-length data (payload, security context, conntrack) stays in the
 * Java-owned receive buffer and is referenced by offset. */
struct nfq_jni_record {
    int32_t type;           /* NFQ_JNI_REC_* */
    uint32_t id;            /* packet id (host order); for errors: the failed message's seq */
    int32_t queue;          /* queue number the packet came from */
    int32_t hw_protocol;    /* ethertype, host order (0x0800 IPv4, 0x86dd IPv6) */
    int32_t hook;           /* NF_INET_* hook number */
    uint32_t mark;
    int32_t present;        /* NFQ_JNI_HAS_* bits: which optional attributes the kernel sent */
    int32_t indev;
    int32_t outdev;
    int32_t physindev;
    int32_t physoutdev;
    uint32_t uid;
    uint32_t gid;
    int32_t original_length;
    int64_t ts_sec;
    int64_t ts_usec;
    int32_t payload_offset;
    int32_t payload_length;
    int32_t secctx_offset;
    int32_t secctx_length;
    int32_t ct_offset;
    int32_t ct_length;
    uint32_t skbinfo;
    uint32_t ctinfo;
    int32_t hwaddr_length;
    uint8_t hwaddr[8];
    int32_t error;          /* NFQ_JNI_REC_ERROR: positive errno the kernel reported */
    int32_t error_msg_type; /* NFQ_JNI_REC_ERROR: nlmsg_type of the message that failed */
    int32_t reserved;
};

#define NFQ_JNI_REC_PACKET 1
#define NFQ_JNI_REC_ERROR 2
/* A datagram cut short by the receive buffer: only the id could be read; Java resolves it. */
#define NFQ_JNI_REC_TRUNCATED 3

#define NFQ_JNI_HAS_MARK (1 << 0)
#define NFQ_JNI_HAS_TIMESTAMP (1 << 1)
#define NFQ_JNI_HAS_INDEV (1 << 2)
#define NFQ_JNI_HAS_OUTDEV (1 << 3)
#define NFQ_JNI_HAS_PHYSINDEV (1 << 4)
#define NFQ_JNI_HAS_PHYSOUTDEV (1 << 5)
#define NFQ_JNI_HAS_HWADDR (1 << 6)
#define NFQ_JNI_HAS_UID (1 << 7)
#define NFQ_JNI_HAS_GID (1 << 8)
#define NFQ_JNI_HAS_SECCTX (1 << 9)
#define NFQ_JNI_HAS_CT (1 << 10)
#define NFQ_JNI_HAS_CAPLEN (1 << 11)
#define NFQ_JNI_HAS_SKBINFO (1 << 12)
#define NFQ_JNI_HAS_PAYLOAD (1 << 13)
#define NFQ_JNI_HAS_CTINFO (1 << 14)

/* One verdict, written by Java into the transmit buffer; a payload, when present, follows
 * the fixed part and the next record starts at the next 8-byte boundary. */
struct nfq_jni_verdict {
    uint32_t id;
    uint32_t verdict;       /* NF_ACCEPT, NF_DROP, ... with the target queue in bits 16-31 for NF_QUEUE */
    int32_t flags;          /* NFQ_JNI_VERDICT_* */
    uint32_t mark;
    int32_t queue;
    int32_t payload_length;
    uint32_t connmark;      /* with NFQ_JNI_VERDICT_HAS_CONNMARK: the connection's new mark bits */
    uint32_t connmark_mask; /* the bits of the connection mark that connmark replaces */
};

#define NFQ_JNI_VERDICT_HAS_MARK (1 << 0)
#define NFQ_JNI_VERDICT_HAS_PAYLOAD (1 << 1)
/* Send as NFQNL_MSG_VERDICT_BATCH: every held id up to and including this one. */
#define NFQ_JNI_VERDICT_BATCH (1 << 2)
/* Also set the connection mark through the verdict (NFQA_CT); only kernels with
 * CONFIG_NETFILTER_NETLINK_GLUE_CT apply it, others ignore the attribute. */
#define NFQ_JNI_VERDICT_HAS_CONNMARK (1 << 3)

#endif
