package io.nfqueue;

/** The netfilter hook a packet was queued from. */
public enum Hook {
    PRE_ROUTING,
    LOCAL_IN,
    FORWARD,
    LOCAL_OUT,
    POST_ROUTING,
    /** A hook number this library does not know (other families, newer kernels). */
    UNKNOWN
}
