package io.nfqueue.reactor;

/** What the kernel does with a new packet when the queue is at its max-length. */
public enum OverflowPolicy {
    /** Drop it (fail-closed, the kernel's default); counted in {@code QueueStats.queueDropped()}. */
    DROP,
    /**
     * Accept it uninspected (fail-open). The kernel counts these nowhere: count them with a
     * rule counter on the queue rule minus what was delivered.
     */
    FAIL_OPEN
}
