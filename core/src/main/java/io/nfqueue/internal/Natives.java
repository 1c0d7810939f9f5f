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
                    checkVersion();
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

    /** Refuses a library built from another version than these classes, naming both. */
    private static void checkVersion() {
        String problem = versionProblem(version(), LibraryVersion.CURRENT, NativeLibraryLoader.fromLibraryPath());
        if (problem != null) {
            throw new NativeLibraryLoadException(problem, null);
        }
    }

    /** Null when the versions agree, else what to do about it. */
    static String versionProblem(String library, String core, boolean fromLibraryPath) {
        if (library.equals(core)) {
            return null;
        }
        return "lib" + NativeLibraryLoader.LIBRARY + ".so is version " + library + " but nfqueue-core is version " + core
                + ": nfqueue-native and nfqueue-core must be the same version (import nfqueue-bom to keep every "
                + "module at one version" + (fromLibraryPath ? ", and remove the other copy from java.library.path" : "")
                + ")";
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

    static native String version();

    static native long open(String networkNamespacePath, int receiveBufferBytes, int sendBufferBytes);

    /** A handle with no socket that replays {@code packets} as queue {@code queue}'s at {@code hook}: warm-up. */
    static native long openSynthetic(int queue, int hook, int copyRange, byte[][] packets, int[] skbInfo, long count);

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

    /**
     * Clears the {@code mask} bits of the ct mark of every conntrack entry of the calling thread's
     * network namespace that has any of them set; returns how many entries changed, or -errno.
     */
    static native int clearConnmarks(int mask);
}
