package io.nfqueue;

/**
 * A failed queue operation: what was attempted, and the errno the kernel returned (0 when
 * the failure did not come from a system call). Subclasses mark failures a program handles
 * differently: {@link MissingPrivilegeException}, {@link QueueAlreadyBoundException},
 * {@link UnsupportedKernelFeatureException}, {@link NativeLibraryUnavailableException}.
 */
public class NfQueueException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String operation;
    private final int errno;

    public NfQueueException(String message, String operation, int errno, Throwable cause) {
        super(message, cause);
        this.operation = operation;
        this.errno = errno;
    }

    /** The operation that failed, e.g. "bind queue 1". */
    public String operation() {
        return operation;
    }

    /** The errno the kernel returned, or 0. */
    public int errno() {
        return errno;
    }
}
