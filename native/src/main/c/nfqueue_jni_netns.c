/*
 * nfqueue_jni_netns: moves the calling thread into a network namespace and back. setns()
 * with CLONE_NEWNET affects only the calling thread, so a JVM thread can create sockets that
 * live in another namespace (they stay there when the thread returns) without moving the
 * process. Used by io.nfqueue.internal.NetworkNamespaces.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include "nfqueue_jni_internal.h"

int nfq_jni_enter_netns(JNIEnv *env, const char *path)
{
    int target = open(path, O_RDONLY | O_CLOEXEC);
    if (target < 0) {
        nfq_jni_throw_errno(env, "open network namespace", errno);
        return -1;
    }
    int original = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (original < 0) {
        int err = errno;
        close(target);
        nfq_jni_throw_errno(env, "open /proc/thread-self/ns/net", err);
        return -1;
    }
    if (setns(target, CLONE_NEWNET) != 0) {
        int err = errno;
        close(target);
        close(original);
        nfq_jni_throw_errno(env, "setns into network namespace", err);
        return -1;
    }
    close(target);
    return original;
}

int nfq_jni_leave_netns(JNIEnv *env, int original)
{
    int rc = setns(original, CLONE_NEWNET);
    int err = errno;
    close(original);
    if (rc != 0) {
        nfq_jni_throw_errno(env, "setns back to the original network namespace", err);
        return -1;
    }
    return 0;
}

/* Enters the namespace at path; returns a descriptor of the one the thread was in (for
 * leaveNetworkNamespace), or throws. */
static jint JNICALL nfqueue_enter_netns(JNIEnv *env, jclass cls, jstring ns_path)
{
    (void)cls;
    const char *path = (*env)->GetStringUTFChars(env, ns_path, NULL);
    if (path == NULL)
        return -1;
    int original = nfq_jni_enter_netns(env, path);
    (*env)->ReleaseStringUTFChars(env, ns_path, path);
    return original;
}

static void JNICALL nfqueue_leave_netns(JNIEnv *env, jclass cls, jint original)
{
    (void)cls;
    nfq_jni_leave_netns(env, original);
}

static const JNINativeMethod methods[] = {
    {"enterNetworkNamespace", "(Ljava/lang/String;)I", (void *)nfqueue_enter_netns},
    {"leaveNetworkNamespace", "(I)V", (void *)nfqueue_leave_netns},
};

int nfq_jni_register_netns(JNIEnv *env, jclass natives)
{
    return (*env)->RegisterNatives(env, natives, methods, sizeof(methods) / sizeof(methods[0])) != 0;
}
