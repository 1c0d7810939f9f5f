/*
 * nfqueue_jni_constants: every number Java shares with C (record layouts, kernel constants,
 * errno values). Java keeps its own table of them (ShimAbi), so that code without this library
 * (the test kit's transport) reads the same layout; when the library loads, Java compares its
 * table with this one, name by name, and refuses a library whose numbers differ. An unknown name
 * throws, so a name typed wrong in Java fails at load time instead of reading a wrong offset.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>

#include "nfqueue_jni_internal.h"

struct named_constant {
    const char *name;
    int value;
};

#define REC(field) {"RECORD_" #field, (int)offsetof(struct nfq_jni_record, field)}
#define VER(field) {"VERDICT_" #field, (int)offsetof(struct nfq_jni_verdict, field)}
#define C(name) {#name, (int)(name)}

static const struct named_constant constants[] = {
    {"RECORD_SIZE", (int)sizeof(struct nfq_jni_record)},
    REC(type), REC(id), REC(queue), REC(hw_protocol), REC(hook), REC(mark), REC(present),
    REC(indev), REC(outdev), REC(physindev), REC(physoutdev), REC(uid), REC(gid),
    REC(original_length), REC(ts_sec), REC(ts_usec), REC(payload_offset), REC(payload_length),
    REC(secctx_offset), REC(secctx_length), REC(ct_offset), REC(ct_length), REC(skbinfo),
    REC(ctinfo), REC(hwaddr_length), REC(hwaddr), REC(error), REC(error_msg_type),
    C(NFQ_JNI_REC_PACKET), C(NFQ_JNI_REC_ERROR), C(NFQ_JNI_REC_TRUNCATED),
    C(NFQ_JNI_HAS_MARK), C(NFQ_JNI_HAS_TIMESTAMP), C(NFQ_JNI_HAS_INDEV), C(NFQ_JNI_HAS_OUTDEV),
    C(NFQ_JNI_HAS_PHYSINDEV), C(NFQ_JNI_HAS_PHYSOUTDEV), C(NFQ_JNI_HAS_HWADDR), C(NFQ_JNI_HAS_UID),
    C(NFQ_JNI_HAS_GID), C(NFQ_JNI_HAS_SECCTX), C(NFQ_JNI_HAS_CT), C(NFQ_JNI_HAS_CAPLEN),
    C(NFQ_JNI_HAS_SKBINFO), C(NFQ_JNI_HAS_PAYLOAD), C(NFQ_JNI_HAS_CTINFO),

    {"VERDICT_SIZE", (int)sizeof(struct nfq_jni_verdict)},
    VER(id), VER(verdict), VER(flags), VER(mark), VER(queue), VER(payload_length), VER(connmark), VER(connmark_mask),
    C(NFQ_JNI_VERDICT_HAS_MARK), C(NFQ_JNI_VERDICT_HAS_PAYLOAD), C(NFQ_JNI_VERDICT_BATCH), C(NFQ_JNI_VERDICT_HAS_CONNMARK),

    C(NF_DROP), C(NF_ACCEPT), C(NF_QUEUE), C(NF_REPEAT), C(NF_STOP),
    C(NF_INET_PRE_ROUTING), C(NF_INET_LOCAL_IN), C(NF_INET_FORWARD), C(NF_INET_LOCAL_OUT),
    C(NF_INET_POST_ROUTING),
    C(NFQNL_COPY_NONE), C(NFQNL_COPY_META), C(NFQNL_COPY_PACKET),
    C(NFQNL_CFG_CMD_BIND), C(NFQNL_CFG_CMD_UNBIND),
    C(NFQA_CFG_F_FAIL_OPEN), C(NFQA_CFG_F_CONNTRACK), C(NFQA_CFG_F_GSO), C(NFQA_CFG_F_UID_GID),
    C(NFQA_CFG_F_SECCTX),
    C(NFQA_SKB_CSUMNOTREADY), C(NFQA_SKB_GSO), C(NFQA_SKB_CSUM_NOTVERIFIED),
    {"MSG_VERDICT", (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_VERDICT},
    {"MSG_VERDICT_BATCH", (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_VERDICT_BATCH},
    {"MSG_CONFIG", (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_CONFIG},

    C(EPERM), C(ENOENT), C(EACCES), C(EINTR), C(EBADF), C(EAGAIN), C(ENOMEM), C(EBUSY), C(ENODEV), C(EINVAL),
    C(ENOBUFS), C(EOPNOTSUPP), C(ETIMEDOUT), C(EPROTO), C(EMSGSIZE), C(ENOSPC), C(EPROTONOSUPPORT),
};

static jint JNICALL nfqueue_constant(JNIEnv *env, jclass cls, jstring name)
{
    (void)cls;
    const char *chars = (*env)->GetStringUTFChars(env, name, NULL);
    if (chars == NULL)
        return 0;
    for (size_t i = 0; i < sizeof(constants) / sizeof(constants[0]); i++) {
        if (strcmp(constants[i].name, chars) == 0) {
            (*env)->ReleaseStringUTFChars(env, name, chars);
            return constants[i].value;
        }
    }
    char message[160];
    strncpy(message, "no native constant named ", sizeof(message) - 1);
    message[sizeof(message) - 1] = 0;
    strncat(message, chars, sizeof(message) - strlen(message) - 1);
    (*env)->ReleaseStringUTFChars(env, name, chars);
    nfq_jni_throw_illegal(env, message);
    return 0;
}

#ifndef NFQ_JNI_VERSION
#define NFQ_JNI_VERSION "unknown"
#endif

/* The version of the sources this library was built from (Maven passes the project's). */
static jstring JNICALL nfqueue_version(JNIEnv *env, jclass cls)
{
    (void)cls;
    return (*env)->NewStringUTF(env, NFQ_JNI_VERSION);
}

/* Every name in the table, in order, so that Java can check it knows each one. */
static jobjectArray JNICALL nfqueue_constant_names(JNIEnv *env, jclass cls)
{
    (void)cls;
    jsize count = (jsize)(sizeof(constants) / sizeof(constants[0]));
    jclass string = (*env)->FindClass(env, "java/lang/String");
    if (string == NULL)
        return NULL;
    jobjectArray names = (*env)->NewObjectArray(env, count, string, NULL);
    (*env)->DeleteLocalRef(env, string);
    if (names == NULL)
        return NULL;
    for (jsize i = 0; i < count; i++) {
        jstring name = (*env)->NewStringUTF(env, constants[i].name);
        if (name == NULL)
            return NULL;
        (*env)->SetObjectArrayElement(env, names, i, name);
        (*env)->DeleteLocalRef(env, name);
    }
    return names;
}

static const JNINativeMethod methods[] = {
    {"constant", "(Ljava/lang/String;)I", (void *)nfqueue_constant},
    {"constantNames", "()[Ljava/lang/String;", (void *)nfqueue_constant_names},
    {"version", "()Ljava/lang/String;", (void *)nfqueue_version},
};

int nfq_jni_register_constants(JNIEnv *env, jclass natives)
{
    return (*env)->RegisterNatives(env, natives, methods, sizeof(methods) / sizeof(methods[0])) != 0;
}
