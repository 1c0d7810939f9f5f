package io.nfqueue.internal;

import java.nio.ByteBuffer;
import java.util.List;

/**
 * The JNI entry points of {@code libnfqueue_jni.so}, registered by its {@code JNI_OnLoad}.
 *
 * <p>Hot-path calls return {@code -errno} instead of throwing; set-up calls throw
 * {@link ErrnoException}. Nothing here validates arguments beyond what keeps native memory
 * safe: callers validate first. Call {@link #ensureLoaded()} before anything else.
 */
public final class Natives {
    private static volatile boolean loaded;
    private static RuntimeException loadFailure;

    private Natives() {
    }

    /** Loads the library once; every later call rethrows the first failure, with its advice. */
    public static void ensureLoaded() {
        if (loaded) {
            return;
        }
        synchronized (Natives.class) {
            if (loaded) {
                return;
            }
            if (loadFailure == null) {
                try {
                    NativeLibraryLoader.load();
                    checkConstants();
                    loaded = true;
                    return;
                } catch (RuntimeException e) {
                    loadFailure = e;
                }
            }
            throw NativeLibraryLoader.rethrowable(loadFailure);
        }
    }

    /**
     * Refuses a library whose shared numbers differ from {@link ShimAbi}'s: one built from other
     * sources than these classes (a stale {@code .so} on {@code java.library.path}, jars of two
     * versions) would otherwise read records at wrong offsets.
     */
    private static void checkConstants() {
        List<String> problems = ShimAbi.mismatches(constantNames(), Natives::constant);
        if (!problems.isEmpty()) {
            throw new NativeLibraryLoadException("the loaded lib" + NativeLibraryLoader.LIBRARY + ".so was not built "
                    + "from the sources of these classes (is an older copy on java.library.path?): " + problems, null);
        }
    }

    static native int constant(String name);

    static native String[] constantNames();

    static native long open(String networkNamespacePath, int receiveBufferBytes, int sendBufferBytes);

    static native void attach(long handle, ByteBuffer rx, int slotSize,
                              ByteBuffer records, ByteBuffer tx);

    static native int configure(long handle, int queue, int command, int copyMode, int copyRange,
                                int maxLength, int flags, int mask, boolean ack);

    static native int receive(long handle, int maxDatagrams);

    static native int sendVerdicts(long handle, int count);

    static native int await(long handle, int timeoutMillis);

    static native int wakeup(long handle);

    static native int fileDescriptor(long handle);

    static native int portId(long handle);

    static native int receiveBufferSize(long handle);

    static native void close(long handle);

    static native int enterNetworkNamespace(String path);

    static native void leaveNetworkNamespace(int originalNamespaceFd);
}
