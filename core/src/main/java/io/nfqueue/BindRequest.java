package io.nfqueue;

import io.nfqueue.internal.NativeConstants;
import io.nfqueue.internal.Transport;

/**
 * The one CONFIG message that binds a queue with everything set at once (copy mode and range,
 * max-length, flags): the kernel applies them together, so no packet meets a half-configured
 * queue (right after a bare BIND the copy mode is NONE and packets are dropped).
 */
final class BindRequest {
    private BindRequest() {
    }

    /**
     * Sends the bind for {@code options}; returns the kernel's answer (0, or -errno). On a
     * refusal, {@link #optionalFeatures} names what the kernel may lack.
     */
    static int send(Transport transport, NativeConstants k, QueueOptions options) {
        int flags = 0;
        if (options.failOpen()) {
            flags |= k.flagFailOpen;
        }
        if (options.gso()) {
            flags |= k.flagGso;
        }
        if (options.conntrack()) {
            flags |= k.flagConntrack;
        }
        if (options.uidGid()) {
            flags |= k.flagUidGid;
        }
        if (options.securityContext()) {
            flags |= k.flagSecctx;
        }
        int mask = k.flagFailOpen | k.flagGso | k.flagConntrack | k.flagUidGid | k.flagSecctx;
        return transport.configure(options.queueNumber(), k.cmdBind, copyMode(k, options.copyMode()),
                options.copyRange(), options.maxLength(), flags, mask, true);
    }

    private static int copyMode(NativeConstants k, CopyMode mode) {
        switch (mode) {
            case NONE:
                return k.copyNone;
            case META:
                return k.copyMeta;
            default:
                return k.copyPacket;
        }
    }

    /** The requested options a kernel may have been built without, for the error message. */
    static String optionalFeatures(QueueOptions options) {
        StringBuilder features = new StringBuilder();
        if (options.conntrack()) {
            features.append("conntrack ");
        }
        if (options.securityContext()) {
            features.append("securityContext ");
        }
        return features.length() == 0 ? "the requested flags" : features.toString().trim();
    }
}
