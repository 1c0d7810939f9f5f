package io.nfqueue;

/**
 * The kernel refused a queue option it was not built with (EOPNOTSUPP): conntrack information
 * needs {@code CONFIG_NETFILTER_NETLINK_GLUE_CT}, security contexts {@code CONFIG_NETWORK_SECMARK}.
 * Turn the option off or use a kernel that has it.
 */
public class UnsupportedKernelFeatureException extends NfQueueException {
    private static final long serialVersionUID = 1L;

    public UnsupportedKernelFeatureException(String message, String operation, int errno) {
        super(message, operation, errno, null);
    }
}
