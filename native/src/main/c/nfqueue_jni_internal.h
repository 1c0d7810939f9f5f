/*
 * Internal declarations of the nfqueue_jni shim: the per-socket state and the JNI entry
 * points each source file contributes to the registration table in nfqueue_jni.c.
 */
#ifndef NFQUEUE_JNI_INTERNAL_H
#define NFQUEUE_JNI_INTERNAL_H

#include <jni.h>
#include <stdint.h>
#include <sys/socket.h>

#include "nfqueue_jni.h"

/* One netlink socket and what its batch receive needs. Allocated by nfqueue_open and
 * freed by nfqueue_close; Java holds the pointer as a long and guarantees that no call
 * uses it after close and that at most one thread receives and one thread sends at a time. */
struct nfq_jni_socket {
    int fd;
    int wake_fd;             /* eventfd that interrupts nfqueue_await */
    uint32_t portid;
    uint32_t seq;            /* sequence numbers of config messages */
    /* Java-owned direct buffers, attached once; they live as long as the Java object. */
    uint8_t *rx;
    int slot_size;
    int slots;
    uint8_t *records;
    int record_capacity;
    uint8_t *tx;
    int tx_capacity;
    struct mmsghdr *msgs;
    struct iovec *iovs;
    uint8_t *send_buf;       /* netlink messages built from the Java verdict records */
    int send_capacity;
    /* A synthetic handle (fd -1) has no socket: receive replays these packet messages and
     * sends go nowhere, so a program can run its receive path before it binds (warm-up). */
    int synthetic;
    struct nfq_jni_template *templates;
    int template_count;
    uint32_t next_id;
    uint32_t next_template;
    uint64_t remaining;      /* packets still to hand out; then it is an idle socket */
    uint32_t reads;          /* receive calls so far: they vary the batch sizes */
};

/* Room for the largest verdict (a 65 531-byte payload plus headers) twice over. */
#define NFQ_JNI_SEND_CAPACITY (256 * 1024)

/* One NFQNL_MSG_PACKET message as the kernel would send it, and where its packet id sits. */
struct nfq_jni_template {
    uint8_t *message;
    size_t length;
    size_t id_offset;
};

/* Fills up to n receive slots from the templates of a synthetic handle, as recvmmsg would;
 * returns how many. */
int nfq_jni_synthetic_fill(struct nfq_jni_socket *s, int n);
/* Frees what a synthetic handle owns beyond the common state. */
void nfq_jni_synthetic_free(struct nfq_jni_socket *s);

/* Throws io.nfqueue.internal.ErrnoException(operation, errno) in the calling thread. */
void nfq_jni_throw_errno(JNIEnv *env, const char *operation, int err);
/* Throws java.lang.IllegalArgumentException with a message. */
void nfq_jni_throw_illegal(JNIEnv *env, const char *message);

/* Registration helpers, one per source file. Each returns 0 on success. */
int nfq_jni_register_socket(JNIEnv *env, jclass natives);
int nfq_jni_register_receive(JNIEnv *env, jclass natives);
int nfq_jni_register_verdict(JNIEnv *env, jclass natives);
int nfq_jni_register_constants(JNIEnv *env, jclass natives);
int nfq_jni_register_netns(JNIEnv *env, jclass natives);
int nfq_jni_register_conntrack(JNIEnv *env, jclass natives);
int nfq_jni_register_synthetic(JNIEnv *env, jclass natives);

/* Moves the calling thread into the network namespace at path; returns a descriptor of the one
 * it was in, or -1 with an exception pending. */
int nfq_jni_enter_netns(JNIEnv *env, const char *path);
/* Moves the calling thread back (closes original); 0, or -1 with an exception pending. */
int nfq_jni_leave_netns(JNIEnv *env, int original);

/* Takes a handle from Java; NULL (with an exception pending) when it is 0. */
struct nfq_jni_socket *nfq_jni_socket_of(JNIEnv *env, jlong handle);

#endif
