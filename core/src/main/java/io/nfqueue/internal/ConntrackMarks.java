package io.nfqueue.internal;

import java.nio.file.Path;

/**
 * Clears bits of conntrack marks over ctnetlink ({@code nfqueue_jni_conntrack.c}), in this
 * thread's network namespace or, for a path, on this thread moved into that one for the call
 * (ctnetlink, like every netlink socket, works on the namespace its socket was created in).
 * Used by {@code io.nfqueue.FlowDecisions}, which validates and maps errors.
 */
public final class ConntrackMarks {
    private ConntrackMarks() {
    }

    /**
     * Clears {@code mask} (not 0) in the ct mark of every entry that has any of its bits set.
     *
     * @param networkNamespace the namespace file, or null for this thread's namespace
     * @return the number of entries changed, or {@code -errno}
     * @throws ErrnoException when entering or leaving the namespace fails
     */
    public static int clear(int mask, Path networkNamespace) {
        Natives.ensureLoaded();
        if (networkNamespace == null) {
            return Natives.clearConnmarks(mask);
        }
        return NetworkNamespaces.callUnchecked(networkNamespace, () -> Natives.clearConnmarks(mask));
    }
}
