package io.nfqueue;

/**
 * The process lacks a capability the operation needs: {@code CAP_NET_ADMIN} for every NFQUEUE
 * message (bind and verdicts alike), {@code CAP_SYS_ADMIN} to enter another network namespace.
 * Run as root, or grant the capability for the whole run (for example systemd's
 * {@code AmbientCapabilities=CAP_NET_ADMIN}).
 */
public class MissingPrivilegeException extends NfQueueException {
    private static final long serialVersionUID = 1L;

    public MissingPrivilegeException(String message, String operation, int errno, Throwable cause) {
        super(message, operation, errno, cause);
    }
}
