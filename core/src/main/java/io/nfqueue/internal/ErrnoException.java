package io.nfqueue.internal;

/**
 * A failed system call, thrown by the native shim during set-up ({@code open}, namespaces) and
 * built by Java from a {@code -errno} return on hot paths. {@link ErrorMapper} turns it into the
 * public exception a user can act on.
 */
public final class ErrnoException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String operation;
    private final int errno;

    public ErrnoException(String operation, int errno) {
        super(operation + " failed: " + ErrnoNames.describe(errno));
        this.operation = operation;
        this.errno = errno;
    }

    public String operation() {
        return operation;
    }

    public int errno() {
        return errno;
    }
}
