package io.nfqueue.internal;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.ToIntFunction;

/**
 * The numbers Java shares with the shim, by the names the shim gives them
 * ({@code nfqueue_jni_constants.c}): typed here a second time so that a transport without the
 * native library (the test kit's, on any OS) reads and writes the same record layout and the
 * same kernel codes. They cannot drift apart unnoticed: each time the library loads,
 * {@link #mismatches} compares this table with the library's, name by name, and the library is
 * refused if any number or name differs; {@code ShimAbiTest} does the same in every Linux build.
 * The values are Linux's, and the record layouts those of its 64-bit ABIs (x86-64 and AArch64
 * lay out these fixed-width structs alike).
 */
public final class ShimAbi {
    private static final Map<String, Integer> VALUES;

    static {
        Map<String, Integer> m = new LinkedHashMap<>();
        // The packet record the receive call writes (struct nfq_jni_record), its types and presence bits.
        m.put("RECORD_SIZE", 128);
        m.put("RECORD_type", 0);
        m.put("RECORD_id", 4);
        m.put("RECORD_queue", 8);
        m.put("RECORD_hw_protocol", 12);
        m.put("RECORD_hook", 16);
        m.put("RECORD_mark", 20);
        m.put("RECORD_present", 24);
        m.put("RECORD_indev", 28);
        m.put("RECORD_outdev", 32);
        m.put("RECORD_physindev", 36);
        m.put("RECORD_physoutdev", 40);
        m.put("RECORD_uid", 44);
        m.put("RECORD_gid", 48);
        m.put("RECORD_original_length", 52);
        m.put("RECORD_ts_sec", 56);
        m.put("RECORD_ts_usec", 64);
        m.put("RECORD_payload_offset", 72);
        m.put("RECORD_payload_length", 76);
        m.put("RECORD_secctx_offset", 80);
        m.put("RECORD_secctx_length", 84);
        m.put("RECORD_ct_offset", 88);
        m.put("RECORD_ct_length", 92);
        m.put("RECORD_skbinfo", 96);
        m.put("RECORD_ctinfo", 100);
        m.put("RECORD_hwaddr_length", 104);
        m.put("RECORD_hwaddr", 108);
        m.put("RECORD_error", 116);
        m.put("RECORD_error_msg_type", 120);
        m.put("NFQ_JNI_REC_PACKET", 1);
        m.put("NFQ_JNI_REC_ERROR", 2);
        m.put("NFQ_JNI_REC_TRUNCATED", 3);
        m.put("NFQ_JNI_HAS_MARK", 1);
        m.put("NFQ_JNI_HAS_TIMESTAMP", 2);
        m.put("NFQ_JNI_HAS_INDEV", 4);
        m.put("NFQ_JNI_HAS_OUTDEV", 8);
        m.put("NFQ_JNI_HAS_PHYSINDEV", 16);
        m.put("NFQ_JNI_HAS_PHYSOUTDEV", 32);
        m.put("NFQ_JNI_HAS_HWADDR", 64);
        m.put("NFQ_JNI_HAS_UID", 128);
        m.put("NFQ_JNI_HAS_GID", 256);
        m.put("NFQ_JNI_HAS_SECCTX", 512);
        m.put("NFQ_JNI_HAS_CT", 1024);
        m.put("NFQ_JNI_HAS_CAPLEN", 2048);
        m.put("NFQ_JNI_HAS_SKBINFO", 4096);
        m.put("NFQ_JNI_HAS_PAYLOAD", 8192);
        m.put("NFQ_JNI_HAS_CTINFO", 16384);

        // The verdict record the send call reads (struct nfq_jni_verdict) and its flags.
        m.put("VERDICT_SIZE", 32);
        m.put("VERDICT_id", 0);
        m.put("VERDICT_verdict", 4);
        m.put("VERDICT_flags", 8);
        m.put("VERDICT_mark", 12);
        m.put("VERDICT_queue", 16);
        m.put("VERDICT_payload_length", 20);
        m.put("VERDICT_connmark", 24);
        m.put("VERDICT_connmark_mask", 28);
        m.put("NFQ_JNI_VERDICT_HAS_MARK", 1);
        m.put("NFQ_JNI_VERDICT_HAS_PAYLOAD", 2);
        m.put("NFQ_JNI_VERDICT_BATCH", 4);
        m.put("NFQ_JNI_VERDICT_HAS_CONNMARK", 8);

        // Kernel values (linux/netfilter.h, linux/netfilter/nfnetlink_queue.h).
        m.put("NF_DROP", 0);
        m.put("NF_ACCEPT", 1);
        m.put("NF_QUEUE", 3);
        m.put("NF_REPEAT", 4);
        m.put("NF_STOP", 5);
        m.put("NF_INET_PRE_ROUTING", 0);
        m.put("NF_INET_LOCAL_IN", 1);
        m.put("NF_INET_FORWARD", 2);
        m.put("NF_INET_LOCAL_OUT", 3);
        m.put("NF_INET_POST_ROUTING", 4);
        m.put("NFQNL_COPY_NONE", 0);
        m.put("NFQNL_COPY_META", 1);
        m.put("NFQNL_COPY_PACKET", 2);
        m.put("NFQNL_CFG_CMD_BIND", 1);
        m.put("NFQNL_CFG_CMD_UNBIND", 2);
        m.put("NFQA_CFG_F_FAIL_OPEN", 1);
        m.put("NFQA_CFG_F_CONNTRACK", 2);
        m.put("NFQA_CFG_F_GSO", 4);
        m.put("NFQA_CFG_F_UID_GID", 8);
        m.put("NFQA_CFG_F_SECCTX", 16);
        m.put("NFQA_SKB_CSUMNOTREADY", 1);
        m.put("NFQA_SKB_GSO", 2);
        m.put("NFQA_SKB_CSUM_NOTVERIFIED", 4);
        m.put("MSG_VERDICT", 769);
        m.put("MSG_VERDICT_BATCH", 771);
        m.put("MSG_CONFIG", 770);

        // errno values: the transport returns -errno in Linux's numbering, whatever OS runs the JVM.
        m.put("EPERM", 1);
        m.put("ENOENT", 2);
        m.put("EACCES", 13);
        m.put("EINTR", 4);
        m.put("EBADF", 9);
        m.put("EAGAIN", 11);
        m.put("ENOMEM", 12);
        m.put("EBUSY", 16);
        m.put("ENODEV", 19);
        m.put("EINVAL", 22);
        m.put("ENOBUFS", 105);
        m.put("EOPNOTSUPP", 95);
        m.put("ETIMEDOUT", 110);
        m.put("EPROTO", 71);
        m.put("EMSGSIZE", 90);
        m.put("ENOSPC", 28);
        m.put("EPROTONOSUPPORT", 93);
        VALUES = Collections.unmodifiableMap(m);
    }

    private ShimAbi() {
    }

    /**
     * The value named {@code name}.
     *
     * @throws IllegalArgumentException for a name the table lacks, as the shim throws for one it lacks
     */
    public static int value(String name) {
        Integer v = VALUES.get(name);
        if (v == null) {
            throw new IllegalArgumentException("no shim constant named " + name);
        }
        return v;
    }

    /** Every name and value, in the shim's order. */
    public static Map<String, Integer> values() {
        return VALUES;
    }

    /**
     * How the library's table differs from this one: one line per name missing on either side
     * or with another value; empty when they agree.
     *
     * @param names  every name the library knows
     * @param lookup the library's value for a name
     */
    public static List<String> mismatches(String[] names, ToIntFunction<String> lookup) {
        List<String> problems = new ArrayList<>();
        Set<String> theirNames = new LinkedHashSet<>(Arrays.asList(names));
        for (String n : theirNames) {
            Integer ours = VALUES.get(n);
            if (ours == null) {
                problems.add(n + " is in the library but not in ShimAbi");
                continue;
            }
            int theirs = lookup.applyAsInt(n);
            if (theirs != ours) {
                problems.add(n + " is " + theirs + " in the library but " + ours + " in ShimAbi");
            }
        }
        for (String n : VALUES.keySet()) {
            if (!theirNames.contains(n)) {
                problems.add(n + " is in ShimAbi but not in the library");
            }
        }
        return problems;
    }
}
