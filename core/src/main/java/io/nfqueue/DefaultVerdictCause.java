package io.nfqueue;

/** Why a packet got the configured default verdict instead of one from the program. */
public enum DefaultVerdictCause {
    /** The queue closed (or the subscription ended) while the packet was unresolved. */
    CLOSE,
    /** The handler threw while it held the packet, or before the packet reached it. */
    HANDLER_ERROR,
    /** The packet was unresolved for longer than the verdict timeout. */
    TIMEOUT,
    /** The subscriber cancelled while the packet was unresolved. */
    CANCEL,
    /** The stream ended with an error while the packet was unresolved. */
    ERROR,
    /** The stream completed while the packet was unresolved. */
    COMPLETE,
    /** An operator discarded the packet (filter, take, a dropped buffer). */
    DISCARD,
    /** The message was larger than the receive slot: only its id could be read. */
    TRUNCATED_MESSAGE
}
