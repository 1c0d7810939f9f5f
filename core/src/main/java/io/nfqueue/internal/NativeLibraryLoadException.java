package io.nfqueue.internal;

/**
 * The shim could not be loaded; the message says why and what to do. The public API turns it
 * into {@code io.nfqueue.NativeLibraryUnavailableException} where a program first touches the
 * library (this package depends on nothing of the public one).
 */
public final class NativeLibraryLoadException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public NativeLibraryLoadException(String message, Throwable cause) {
        super(message, cause);
    }
}
