package io.nfqueue.internal;

import java.util.HashMap;
import java.util.Map;

/**
 * Every number shared with C, by name, as fields: record offsets, kernel verdict codes, flags and
 * errno values. They come from {@link ShimAbi}, which the native library is checked against when
 * it loads, so reading them needs no native code: a transport without the library (the test
 * kit's) uses the same layout.
 */
public final class NativeConstants {
    private static final NativeConstants INSTANCE = new NativeConstants();

    // Packet records written by the receive call.
    public final int recordSize;
    public final int recType;
    public final int recId;
    public final int recQueue;
    public final int recHwProtocol;
    public final int recHook;
    public final int recMark;
    public final int recPresent;
    public final int recIndev;
    public final int recOutdev;
    public final int recPhysIndev;
    public final int recPhysOutdev;
    public final int recUid;
    public final int recGid;
    public final int recOriginalLength;
    public final int recTsSec;
    public final int recTsUsec;
    public final int recPayloadOffset;
    public final int recPayloadLength;
    public final int recSecctxOffset;
    public final int recSecctxLength;
    public final int recCtOffset;
    public final int recCtLength;
    public final int recSkbInfo;
    public final int recCtInfo;
    public final int recHwAddrLength;
    public final int recHwAddr;
    public final int recError;
    public final int recErrorMsgType;

    public final int typePacket;
    public final int typeError;
    public final int typeTruncated;

    public final int hasMark;
    public final int hasTimestamp;
    public final int hasIndev;
    public final int hasOutdev;
    public final int hasPhysIndev;
    public final int hasPhysOutdev;
    public final int hasHwAddr;
    public final int hasUid;
    public final int hasGid;
    public final int hasSecctx;
    public final int hasCt;
    public final int hasCapLen;
    public final int hasSkbInfo;
    public final int hasPayload;
    public final int hasCtInfo;

    // Verdict records read by the send call.
    public final int verdictSize;
    public final int verId;
    public final int verVerdict;
    public final int verFlags;
    public final int verMark;
    public final int verQueue;
    public final int verPayloadLength;
    public final int verConnmark;
    public final int verConnmarkMask;
    public final int verdictHasMark;
    public final int verdictHasPayload;
    public final int verdictBatch;
    public final int verdictHasConnmark;

    // Kernel values.
    public final int nfDrop;
    public final int nfAccept;
    public final int nfQueue;
    public final int nfRepeat;
    public final int copyNone;
    public final int copyMeta;
    public final int copyPacket;
    public final int cmdBind;
    public final int cmdUnbind;
    public final int flagFailOpen;
    public final int flagConntrack;
    public final int flagGso;
    public final int flagUidGid;
    public final int flagSecctx;
    public final int skbCsumNotReady;
    public final int skbGso;
    public final int skbCsumNotVerified;
    public final int msgVerdict;
    public final int msgVerdictBatch;
    public final int msgConfig;
    public final int hookPreRouting;
    public final int hookLocalIn;
    public final int hookForward;
    public final int hookLocalOut;
    public final int hookPostRouting;

    public final int eperm;
    public final int enoent;
    public final int eacces;
    public final int eintr;
    public final int ebadf;
    public final int eagain;
    public final int enomem;
    public final int ebusy;
    public final int enodev;
    public final int einval;
    public final int enobufs;
    public final int eopnotsupp;
    public final int etimedout;
    public final int eproto;
    public final int emsgsize;
    public final int eprotonosupport;

    private final Map<Integer, String> errnoNames = new HashMap<>();

    private NativeConstants() {
        recordSize = c("RECORD_SIZE");
        recType = c("RECORD_type");
        recId = c("RECORD_id");
        recQueue = c("RECORD_queue");
        recHwProtocol = c("RECORD_hw_protocol");
        recHook = c("RECORD_hook");
        recMark = c("RECORD_mark");
        recPresent = c("RECORD_present");
        recIndev = c("RECORD_indev");
        recOutdev = c("RECORD_outdev");
        recPhysIndev = c("RECORD_physindev");
        recPhysOutdev = c("RECORD_physoutdev");
        recUid = c("RECORD_uid");
        recGid = c("RECORD_gid");
        recOriginalLength = c("RECORD_original_length");
        recTsSec = c("RECORD_ts_sec");
        recTsUsec = c("RECORD_ts_usec");
        recPayloadOffset = c("RECORD_payload_offset");
        recPayloadLength = c("RECORD_payload_length");
        recSecctxOffset = c("RECORD_secctx_offset");
        recSecctxLength = c("RECORD_secctx_length");
        recCtOffset = c("RECORD_ct_offset");
        recCtLength = c("RECORD_ct_length");
        recSkbInfo = c("RECORD_skbinfo");
        recCtInfo = c("RECORD_ctinfo");
        recHwAddrLength = c("RECORD_hwaddr_length");
        recHwAddr = c("RECORD_hwaddr");
        recError = c("RECORD_error");
        recErrorMsgType = c("RECORD_error_msg_type");
        typePacket = c("NFQ_JNI_REC_PACKET");
        typeError = c("NFQ_JNI_REC_ERROR");
        typeTruncated = c("NFQ_JNI_REC_TRUNCATED");
        hasMark = c("NFQ_JNI_HAS_MARK");
        hasTimestamp = c("NFQ_JNI_HAS_TIMESTAMP");
        hasIndev = c("NFQ_JNI_HAS_INDEV");
        hasOutdev = c("NFQ_JNI_HAS_OUTDEV");
        hasPhysIndev = c("NFQ_JNI_HAS_PHYSINDEV");
        hasPhysOutdev = c("NFQ_JNI_HAS_PHYSOUTDEV");
        hasHwAddr = c("NFQ_JNI_HAS_HWADDR");
        hasUid = c("NFQ_JNI_HAS_UID");
        hasGid = c("NFQ_JNI_HAS_GID");
        hasSecctx = c("NFQ_JNI_HAS_SECCTX");
        hasCt = c("NFQ_JNI_HAS_CT");
        hasCapLen = c("NFQ_JNI_HAS_CAPLEN");
        hasSkbInfo = c("NFQ_JNI_HAS_SKBINFO");
        hasPayload = c("NFQ_JNI_HAS_PAYLOAD");
        hasCtInfo = c("NFQ_JNI_HAS_CTINFO");

        verdictSize = c("VERDICT_SIZE");
        verId = c("VERDICT_id");
        verVerdict = c("VERDICT_verdict");
        verFlags = c("VERDICT_flags");
        verMark = c("VERDICT_mark");
        verQueue = c("VERDICT_queue");
        verPayloadLength = c("VERDICT_payload_length");
        verConnmark = c("VERDICT_connmark");
        verConnmarkMask = c("VERDICT_connmark_mask");
        verdictHasMark = c("NFQ_JNI_VERDICT_HAS_MARK");
        verdictHasPayload = c("NFQ_JNI_VERDICT_HAS_PAYLOAD");
        verdictBatch = c("NFQ_JNI_VERDICT_BATCH");
        verdictHasConnmark = c("NFQ_JNI_VERDICT_HAS_CONNMARK");

        nfDrop = c("NF_DROP");
        nfAccept = c("NF_ACCEPT");
        nfQueue = c("NF_QUEUE");
        nfRepeat = c("NF_REPEAT");
        copyNone = c("NFQNL_COPY_NONE");
        copyMeta = c("NFQNL_COPY_META");
        copyPacket = c("NFQNL_COPY_PACKET");
        cmdBind = c("NFQNL_CFG_CMD_BIND");
        cmdUnbind = c("NFQNL_CFG_CMD_UNBIND");
        flagFailOpen = c("NFQA_CFG_F_FAIL_OPEN");
        flagConntrack = c("NFQA_CFG_F_CONNTRACK");
        flagGso = c("NFQA_CFG_F_GSO");
        flagUidGid = c("NFQA_CFG_F_UID_GID");
        flagSecctx = c("NFQA_CFG_F_SECCTX");
        skbCsumNotReady = c("NFQA_SKB_CSUMNOTREADY");
        skbGso = c("NFQA_SKB_GSO");
        skbCsumNotVerified = c("NFQA_SKB_CSUM_NOTVERIFIED");
        msgVerdict = c("MSG_VERDICT");
        msgVerdictBatch = c("MSG_VERDICT_BATCH");
        msgConfig = c("MSG_CONFIG");
        hookPreRouting = c("NF_INET_PRE_ROUTING");
        hookLocalIn = c("NF_INET_LOCAL_IN");
        hookForward = c("NF_INET_FORWARD");
        hookLocalOut = c("NF_INET_LOCAL_OUT");
        hookPostRouting = c("NF_INET_POST_ROUTING");

        eperm = errno("EPERM");
        enoent = errno("ENOENT");
        eacces = errno("EACCES");
        eintr = errno("EINTR");
        ebadf = errno("EBADF");
        eagain = errno("EAGAIN");
        enomem = errno("ENOMEM");
        ebusy = errno("EBUSY");
        enodev = errno("ENODEV");
        einval = errno("EINVAL");
        enobufs = errno("ENOBUFS");
        eopnotsupp = errno("EOPNOTSUPP");
        etimedout = errno("ETIMEDOUT");
        eproto = errno("EPROTO");
        emsgsize = errno("EMSGSIZE");
        errno("ENOSPC");
        eprotonosupport = errno("EPROTONOSUPPORT");
    }

    private static int c(String name) {
        return ShimAbi.value(name);
    }

    private int errno(String name) {
        int value = ShimAbi.value(name);
        errnoNames.put(value, name);
        return value;
    }

    /** The constants (no native code is loaded for them). */
    public static NativeConstants get() {
        return INSTANCE;
    }

    /** "EPERM" for 1, or null. */
    public String errnoName(int errno) {
        return errnoNames.get(errno);
    }
}
