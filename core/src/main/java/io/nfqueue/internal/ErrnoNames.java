package io.nfqueue.internal;

/** Human names for the errno values this library meets, taken from the native constants. */
public final class ErrnoNames {
    private ErrnoNames() {
    }

    /** "EPERM (errno 1)", or "errno N" for a value the library has no name for. */
    public static String describe(int errno) {
        String name = NativeConstants.get().errnoName(errno);
        return name == null ? "errno " + errno : name + " (errno " + errno + ")";
    }
}
