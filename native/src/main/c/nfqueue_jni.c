/*
 * nfqueue_jni: library entry. Registers every native of io.nfqueue.internal.Natives in
 * JNI_OnLoad (no javah headers, no exported Java_* symbols), undoes that in JNI_OnUnload, and
 * holds the helpers that raise Java exceptions from C.
 *
 * The class is found by the name the Java loader puts in the system property
 * "nfqueue.jni.natives" just before it loads this library: the name at run time, so that a
 * relocated (shaded) copy binds too. Without the property, the name as built.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nfqueue_jni_internal.h"

#define NATIVES_CLASS_PROPERTY "nfqueue.jni.natives"
#define NATIVES_CLASS "io/nfqueue/internal/Natives"
/* In the same package as the natives class. */
#define ERRNO_EXCEPTION_SIMPLE_NAME "ErrnoException"
#define CLASS_NAME_MAX 512

static jclass natives_class;
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

/* The natives class's binary name with slashes, from the property or the default; 0 on success. */
static int natives_class_name(JNIEnv *env, char *out, size_t size)
{
    snprintf(out, size, "%s", NATIVES_CLASS);
    jclass system = (*env)->FindClass(env, "java/lang/System");
    if (system == NULL)
        return -1;
    jmethodID get = (*env)->GetStaticMethodID(env, system, "getProperty", "(Ljava/lang/String;)Ljava/lang/String;");
    jstring key = get == NULL ? NULL : (*env)->NewStringUTF(env, NATIVES_CLASS_PROPERTY);
    if (key == NULL)
        return -1;
    jstring value = (jstring)(*env)->CallStaticObjectMethod(env, system, get, key);
    if ((*env)->ExceptionCheck(env))
        return -1;
    if (value != NULL) {
        const char *name = (*env)->GetStringUTFChars(env, value, NULL);
        if (name == NULL)
            return -1;
        if (strlen(name) >= size) {
            (*env)->ReleaseStringUTFChars(env, value, name);
            return -1;
        }
        snprintf(out, size, "%s", name);
        (*env)->ReleaseStringUTFChars(env, value, name);
        for (char *c = out; *c; c++)
            if (*c == '.')
                *c = '/';
    }
    return 0;
}

/* The exception class beside the natives class: "a/b/Natives" -> "a/b/ErrnoException". */
static int sibling_class_name(const char *natives, const char *simple, char *out, size_t size)
{
    const char *slash = strrchr(natives, '/');
    size_t prefix = slash == NULL ? 0 : (size_t)(slash - natives) + 1;
    if (prefix + strlen(simple) >= size)
        return -1;
    memcpy(out, natives, prefix);
    snprintf(out + prefix, size - prefix, "%s", simple);
    return 0;
}

static void release_globals(JNIEnv *env)
{
    if (natives_class != NULL) {
        (*env)->UnregisterNatives(env, natives_class);
        (*env)->DeleteGlobalRef(env, natives_class);
        natives_class = NULL;
    }
    if (errno_exception_class != NULL) {
        (*env)->DeleteGlobalRef(env, errno_exception_class);
        errno_exception_class = NULL;
    }
    errno_exception_ctor = NULL;
}

/* Everything JNI_OnLoad sets up, or nothing: a failure half-way undoes what was done. */
JNIEXPORT jint JNICALL JNI_OnLoad(JavaVM *vm, void *reserved)
{
    (void)reserved;
    JNIEnv *env;
    if ((*vm)->GetEnv(vm, (void **)&env, JNI_VERSION_1_8) != JNI_OK)
        return JNI_ERR;
    char natives_name[CLASS_NAME_MAX];
    char exception_name[CLASS_NAME_MAX];
    if (natives_class_name(env, natives_name, sizeof(natives_name)) != 0 ||
        sibling_class_name(natives_name, ERRNO_EXCEPTION_SIMPLE_NAME, exception_name, sizeof(exception_name)) != 0)
        return JNI_ERR;

    jclass local = (*env)->FindClass(env, exception_name);
    if (local == NULL)
        return JNI_ERR;
    errno_exception_class = (jclass)(*env)->NewGlobalRef(env, local);
    (*env)->DeleteLocalRef(env, local);
    if (errno_exception_class == NULL)
        goto fail;
    errno_exception_ctor = (*env)->GetMethodID(env, errno_exception_class, "<init>", "(Ljava/lang/String;I)V");
    if (errno_exception_ctor == NULL)
        goto fail;

    local = (*env)->FindClass(env, natives_name);
    if (local == NULL)
        goto fail;
    natives_class = (jclass)(*env)->NewGlobalRef(env, local);
    (*env)->DeleteLocalRef(env, local);
    if (natives_class == NULL)
        goto fail;
    if (nfq_jni_register_constants(env, natives_class) || nfq_jni_register_socket(env, natives_class) ||
        nfq_jni_register_receive(env, natives_class) || nfq_jni_register_verdict(env, natives_class) ||
        nfq_jni_register_netns(env, natives_class) || nfq_jni_register_conntrack(env, natives_class) ||
        nfq_jni_register_synthetic(env, natives_class))
        goto fail;
    return JNI_VERSION_1_8;

fail:
    release_globals(env);
    return JNI_ERR;
}

JNIEXPORT void JNICALL JNI_OnUnload(JavaVM *vm, void *reserved)
{
    (void)reserved;
    JNIEnv *env;
    if ((*vm)->GetEnv(vm, (void **)&env, JNI_VERSION_1_8) == JNI_OK)
        release_globals(env);
}
