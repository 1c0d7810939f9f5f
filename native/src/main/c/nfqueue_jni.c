/*
 * nfqueue_jni: library entry. Registers every native of io.nfqueue.internal.Natives in
 * JNI_OnLoad (no javah headers, no exported Java_* symbols) and holds the helpers that raise
 * Java exceptions from C.
 */
#include <errno.h>
#include <string.h>

#include "nfqueue_jni_internal.h"

#define NATIVES_CLASS "io/nfqueue/internal/Natives"
#define ERRNO_EXCEPTION_CLASS "io/nfqueue/internal/ErrnoException"

static jclass errno_exception_class;
static jmethodID errno_exception_ctor;

void nfq_jni_throw_errno(JNIEnv *env, const char *operation, int err)
{
    if ((*env)->ExceptionCheck(env))
        return;
    jstring op = (*env)->NewStringUTF(env, operation);
    if (op == NULL)
        return; /* OutOfMemoryError pending */
    jobject ex = (*env)->NewObject(env, errno_exception_class, errno_exception_ctor, op, (jint)err);
    if (ex != NULL)
        (*env)->Throw(env, (jthrowable)ex);
}

void nfq_jni_throw_illegal(JNIEnv *env, const char *message)
{
    if ((*env)->ExceptionCheck(env))
        return;
    jclass cls = (*env)->FindClass(env, "java/lang/IllegalArgumentException");
    if (cls != NULL)
        (*env)->ThrowNew(env, cls, message);
}

struct nfq_jni_socket *nfq_jni_socket_of(JNIEnv *env, jlong handle)
{
    if (handle == 0) {
        nfq_jni_throw_illegal(env, "nfqueue socket handle is closed (0)");
        return NULL;
    }
    return (struct nfq_jni_socket *)(intptr_t)handle;
}

JNIEXPORT jint JNICALL JNI_OnLoad(JavaVM *vm, void *reserved)
{
    (void)reserved;
    JNIEnv *env;
    if ((*vm)->GetEnv(vm, (void **)&env, JNI_VERSION_1_8) != JNI_OK)
        return JNI_ERR;

    jclass local = (*env)->FindClass(env, ERRNO_EXCEPTION_CLASS);
    if (local == NULL)
        return JNI_ERR;
    errno_exception_class = (jclass)(*env)->NewGlobalRef(env, local);
    (*env)->DeleteLocalRef(env, local);
    if (errno_exception_class == NULL)
        return JNI_ERR;
    errno_exception_ctor = (*env)->GetMethodID(env, errno_exception_class, "<init>", "(Ljava/lang/String;I)V");
    if (errno_exception_ctor == NULL)
        return JNI_ERR;

    jclass natives = (*env)->FindClass(env, NATIVES_CLASS);
    if (natives == NULL)
        return JNI_ERR;
    if (nfq_jni_register_constants(env, natives) || nfq_jni_register_socket(env, natives) ||
        nfq_jni_register_receive(env, natives) || nfq_jni_register_verdict(env, natives) ||
        nfq_jni_register_netns(env, natives))
        return JNI_ERR;
    (*env)->DeleteLocalRef(env, natives);
    return JNI_VERSION_1_8;
}
