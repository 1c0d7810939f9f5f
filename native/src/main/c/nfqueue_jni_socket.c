/*
 * nfqueue_jni_socket: the netlink socket's life: open (optionally inside another network
 * namespace), attach the Java-owned buffers, send a queue CONFIG message, wait for
 * readability or a wake-up, close.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <linux/netlink.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

#include "nfqueue_jni_internal.h"

#ifndef NETLINK_CAP_ACK
#define NETLINK_CAP_ACK 10
#endif

/* await_ack: datagrams it may look at (and leave) before it gives up on the acknowledgement. */
#define ACK_MAX_SKIPS 64
/* Room for one config message: header, command, params, max-length, flags and mask. */
#define CONFIG_MESSAGE_MAX 256
/* How long configure() waits for the kernel's acknowledgement. */
#define ACK_TIMEOUT_MS 5000

static int set_buffer(int fd, int force_opt, int opt, int bytes)
{
    if (bytes <= 0)
        return 0;
    /* The FORCE variant ignores net.core.[rw]mem_max; it needs CAP_NET_ADMIN, which a queue
     * owner has anyway. Fall back to the capped one so an unprivileged open still reaches bind
     * and reports the real problem there. */
    if (setsockopt(fd, SOL_SOCKET, force_opt, &bytes, sizeof(bytes)) == 0)
        return 0;
    if (setsockopt(fd, SOL_SOCKET, opt, &bytes, sizeof(bytes)) == 0)
        return 0;
    return -errno;
}

/* socket() in the namespace at ns_path, then back: setns() affects only this thread. */
static int socket_in_namespace(JNIEnv *env, const char *ns_path)
{
    int original = nfq_jni_enter_netns(env, ns_path);
    if (original < 0)
        return -1;
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
    int socket_err = errno;
    if (nfq_jni_leave_netns(env, original) != 0) {
        /* This thread is now stuck in the other namespace (an exception is pending); refuse
         * rather than let later sockets of this thread land there unnoticed. */
        if (fd >= 0)
            close(fd);
        return -1;
    }
    if (fd < 0) {
        nfq_jni_throw_errno(env, "socket(AF_NETLINK, NETLINK_NETFILTER)", socket_err);
        return -1;
    }
    return fd;
}

static jlong JNICALL nfqueue_open(JNIEnv *env, jclass cls, jstring ns_path, jint rcvbuf, jint sndbuf)
{
    (void)cls;
    int fd;
    if (ns_path != NULL) {
        const char *path = (*env)->GetStringUTFChars(env, ns_path, NULL);
        if (path == NULL)
            return 0;
        fd = socket_in_namespace(env, path);
        (*env)->ReleaseStringUTFChars(env, ns_path, path);
        if (fd < 0)
            return 0;
    } else {
        fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
        if (fd < 0) {
            nfq_jni_throw_errno(env, "socket(AF_NETLINK, NETLINK_NETFILTER)", errno);
            return 0;
        }
    }

    struct nfq_jni_socket *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        close(fd);
        nfq_jni_throw_errno(env, "allocate socket state", ENOMEM);
        return 0;
    }
    s->fd = fd;
    s->wake_fd = -1;

    int err = set_buffer(fd, SO_RCVBUFFORCE, SO_RCVBUF, rcvbuf);
    const char *op = "setsockopt(SO_RCVBUF)";
    if (err == 0) {
        err = set_buffer(fd, SO_SNDBUFFORCE, SO_SNDBUF, sndbuf);
        op = "setsockopt(SO_SNDBUF)";
    }
    if (err == 0) {
        /* Error acks carry only the failed message's header, not a 64 KiB payload echoed back. */
        int one = 1;
        setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
        struct sockaddr_nl addr = {.nl_family = AF_NETLINK};
        if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
            err = -errno;
            op = "bind(AF_NETLINK)";
        } else {
            socklen_t len = sizeof(addr);
            if (getsockname(fd, (struct sockaddr *)&addr, &len) != 0) {
                err = -errno;
                op = "getsockname(AF_NETLINK)";
            }
            s->portid = addr.nl_pid;
        }
    }
    if (err == 0) {
        s->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (s->wake_fd < 0) {
            err = -errno;
            op = "eventfd";
        }
    }
    if (err == 0) {
        s->send_capacity = NFQ_JNI_SEND_CAPACITY;
        s->send_buf = malloc(NFQ_JNI_SEND_CAPACITY);
        if (s->send_buf == NULL) {
            err = -ENOMEM;
            op = "allocate send buffer";
        }
    }
    if (err != 0) {
        close(fd);
        if (s->wake_fd >= 0)
            close(s->wake_fd);
        free(s->send_buf);
        free(s);
        nfq_jni_throw_errno(env, op, -err);
        return 0;
    }
    return (jlong)(intptr_t)s;
}

static void JNICALL nfqueue_attach(JNIEnv *env, jclass cls, jlong handle, jobject rx, jint slot_size,
                                   jobject records, jobject tx)
{
    (void)cls;
    struct nfq_jni_socket *s = nfq_jni_socket_of(env, handle);
    if (s == NULL)
        return;
    uint8_t *rx_addr = (*env)->GetDirectBufferAddress(env, rx);
    uint8_t *rec_addr = (*env)->GetDirectBufferAddress(env, records);
    uint8_t *tx_addr = (*env)->GetDirectBufferAddress(env, tx);
    jlong rx_cap = (*env)->GetDirectBufferCapacity(env, rx);
    jlong rec_cap = (*env)->GetDirectBufferCapacity(env, records);
    jlong tx_cap = (*env)->GetDirectBufferCapacity(env, tx);
    if (rx_addr == NULL || rec_addr == NULL || tx_addr == NULL) {
        nfq_jni_throw_illegal(env, "buffers must be direct ByteBuffers");
        return;
    }
    if (slot_size <= 0 || rx_cap < slot_size || rec_cap < (jlong)sizeof(struct nfq_jni_record) ||
        tx_cap < (jlong)sizeof(struct nfq_jni_verdict)) {
        nfq_jni_throw_illegal(env, "buffers are too small for one message");
        return;
    }
    int slots = (int)(rx_cap / slot_size);
    struct mmsghdr *msgs = calloc((size_t)slots, sizeof(*msgs));
    struct iovec *iovs = calloc((size_t)slots, sizeof(*iovs));
    if (msgs == NULL || iovs == NULL) {
        free(msgs);
        free(iovs);
        nfq_jni_throw_errno(env, "allocate receive vectors", ENOMEM);
        return;
    }
    for (int i = 0; i < slots; i++) {
        iovs[i].iov_base = rx_addr + (size_t)i * (size_t)slot_size;
        iovs[i].iov_len = (size_t)slot_size;
        msgs[i].msg_hdr.msg_iov = &iovs[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
    }
    free(s->msgs);
    free(s->iovs);
    s->msgs = msgs;
    s->iovs = iovs;
    s->rx = rx_addr;
    s->slot_size = slot_size;
    s->slots = slots;
    s->records = rec_addr;
    s->record_capacity = (int)(rec_cap / (jlong)sizeof(struct nfq_jni_record));
    s->tx = tx_addr;
    s->tx_capacity = tx_cap > INT32_MAX ? INT32_MAX : (int)tx_cap;
}

/*
 * After a config message with NLM_F_ACK: the acknowledgement is normally the next datagram.
 * Once a queue is bound, though, a packet can overtake it. A packet at the head proves the
 * bind took effect (nfqnl_recv_config validates flags before it binds and cannot fail after),
 * so we stop there and leave both in the socket: the receive path skips zero-error acks.
 */
static int await_ack(struct nfq_jni_socket *s, uint32_t seq)
{
    char buf[MNL_SOCKET_BUFFER_SIZE] __attribute__((aligned(8)));
    for (int attempt = 0; attempt < ACK_MAX_SKIPS; attempt++) {
        struct pollfd p = {.fd = s->fd, .events = POLLIN};
        int ready = poll(&p, 1, ACK_TIMEOUT_MS);
        if (ready < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (ready == 0)
            return -ETIMEDOUT;
        ssize_t n = recv(s->fd, buf, sizeof(buf), MSG_PEEK);
        if (n < 0) {
            if (errno == EINTR || errno == ENOBUFS)
                continue;
            return -errno;
        }
        const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
        if (!mnl_nlmsg_ok(nlh, (int)n))
            return -EPROTO;
        if (nlh->nlmsg_type == NLMSG_ERROR && nlh->nlmsg_seq == seq) {
            const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
            int result = e->error;
            if (recv(s->fd, buf, sizeof(buf), 0) < 0)
                return -errno;
            return result;
        }
        return 0;
    }
    return -ETIMEDOUT;
}

/* One NFQNL_MSG_CONFIG carrying every setting the caller gives, so BIND, copy mode, flags
 * and max-length take effect together (nfqnl_recv_config applies them in one call).
 * cmd/copy_mode/max_len/mask < 0 mean "leave out". Returns 0 or -errno (the kernel's answer
 * when ack is true). */
static jint JNICALL nfqueue_configure(JNIEnv *env, jclass cls, jlong handle, jint queue, jint cmd,
                                      jint copy_mode, jint copy_range, jint max_len, jint flags,
                                      jint mask, jboolean ack)
{
    (void)cls;
    struct nfq_jni_socket *s = nfq_jni_socket_of(env, handle);
    if (s == NULL)
        return -EBADF;
    /* A config message is a header and a few small attributes, far below this; zeroed so that
     * attribute padding goes out as zeros. */
    char buf[CONFIG_MESSAGE_MAX] __attribute__((aligned(8)));
    memset(buf, 0, sizeof(buf));
    struct nlmsghdr *nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, (uint32_t)queue);
    s->seq = s->seq + 1 == 0 ? 1 : s->seq + 1;
    nlh->nlmsg_seq = s->seq;
    if (ack)
        nlh->nlmsg_flags |= NLM_F_ACK;
    if (cmd >= 0)
        nfq_nlmsg_cfg_put_cmd(nlh, AF_UNSPEC, (uint8_t)cmd);
    if (copy_mode >= 0)
        nfq_nlmsg_cfg_put_params(nlh, (uint8_t)copy_mode, copy_range);
    if (max_len >= 0)
        nfq_nlmsg_cfg_put_qmaxlen(nlh, (uint32_t)max_len);
    if (mask > 0) {
        mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl((uint32_t)flags));
        mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl((uint32_t)mask));
    }
    if (s->synthetic)
        return 0; /* no kernel behind it: every setting is taken */
    struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
    for (;;) {
        ssize_t sent = sendto(s->fd, nlh, nlh->nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof(kernel));
        if (sent >= 0)
            break;
        if (errno != EINTR)
            return -errno;
    }
    return ack ? await_ack(s, nlh->nlmsg_seq) : 0;
}

/* Waits until the socket is readable, wakeup() was called, or the timeout passes.
 * Returns a bit set (1 readable, 2 woken), 0 on timeout or signal, or -errno. */
static jint JNICALL nfqueue_await(JNIEnv *env, jclass cls, jlong handle, jint timeout_ms)
{
    (void)cls;
    struct nfq_jni_socket *s = nfq_jni_socket_of(env, handle);
    if (s == NULL)
        return -EBADF;
    struct pollfd p[2] = {{.fd = s->fd, .events = POLLIN}, {.fd = s->wake_fd, .events = POLLIN}};
    /* A synthetic handle with packets left reports readable at once; poll ignores its fd -1. */
    /* remaining is written by the receiving thread, which may be another one (hand-off, close). */
    int has_synthetic = s->synthetic && __atomic_load_n(&s->remaining, __ATOMIC_RELAXED) > 0;
    int ready = poll(p, 2, has_synthetic ? 0 : timeout_ms);
    if (ready < 0)
        return errno == EINTR ? 0 : -errno;
    int result = has_synthetic ? 1 : 0;
    if (p[0].revents & (POLLIN | POLLERR))
        result |= 1;
    if (p[1].revents & POLLIN) {
        uint64_t drained;
        ssize_t r = read(s->wake_fd, &drained, sizeof(drained));
        (void)r;
        result |= 2;
    }
    return result;
}

static jint JNICALL nfqueue_wakeup(JNIEnv *env, jclass cls, jlong handle)
{
    (void)cls;
    struct nfq_jni_socket *s = nfq_jni_socket_of(env, handle);
    if (s == NULL)
        return -EBADF;
    uint64_t one = 1;
    if (write(s->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
        return -errno;
    return 0;
}

static jint JNICALL nfqueue_fd(JNIEnv *env, jclass cls, jlong handle)
{
    (void)cls;
    struct nfq_jni_socket *s = nfq_jni_socket_of(env, handle);
    return s == NULL ? -EBADF : s->fd;
}

static jint JNICALL nfqueue_portid(JNIEnv *env, jclass cls, jlong handle)
{
    (void)cls;
    struct nfq_jni_socket *s = nfq_jni_socket_of(env, handle);
    return s == NULL ? -EBADF : (jint)s->portid;
}

static jint JNICALL nfqueue_rcvbuf(JNIEnv *env, jclass cls, jlong handle)
{
    (void)cls;
    struct nfq_jni_socket *s = nfq_jni_socket_of(env, handle);
    if (s == NULL)
        return -EBADF;
    if (s->synthetic)
        return s->slots * s->slot_size; /* what the receive slots hold: the nearest thing to a buffer */
    int value = 0;
    socklen_t len = sizeof(value);
    if (getsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &value, &len) != 0)
        return -errno;
    return value;
}

static void JNICALL nfqueue_close(JNIEnv *env, jclass cls, jlong handle)
{
    (void)cls;
    (void)env;
    if (handle == 0)
        return;
    struct nfq_jni_socket *s = (struct nfq_jni_socket *)(intptr_t)handle;
    /* Closing the socket destroys every queue instance it owns (nfqnl_rcv_nl_event). */
    if (s->fd >= 0)
        close(s->fd);
    close(s->wake_fd);
    nfq_jni_synthetic_free(s);
    free(s->msgs);
    free(s->iovs);
    free(s->send_buf);
    free(s);
}

static const JNINativeMethod methods[] = {
    {"open", "(Ljava/lang/String;II)J", (void *)nfqueue_open},
    {"attach", "(JLjava/nio/ByteBuffer;ILjava/nio/ByteBuffer;Ljava/nio/ByteBuffer;)V", (void *)nfqueue_attach},
    {"configure", "(JIIIIIIIZ)I", (void *)nfqueue_configure},
    {"await", "(JI)I", (void *)nfqueue_await},
    {"wakeup", "(J)I", (void *)nfqueue_wakeup},
    {"fileDescriptor", "(J)I", (void *)nfqueue_fd},
    {"portId", "(J)I", (void *)nfqueue_portid},
    {"receiveBufferSize", "(J)I", (void *)nfqueue_rcvbuf},
    {"close", "(J)V", (void *)nfqueue_close},
};

int nfq_jni_register_socket(JNIEnv *env, jclass natives)
{
    return (*env)->RegisterNatives(env, natives, methods, sizeof(methods) / sizeof(methods[0])) != 0;
}
