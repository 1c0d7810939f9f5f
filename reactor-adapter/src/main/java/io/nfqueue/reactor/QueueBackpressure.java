package io.nfqueue.reactor;

import java.util.OptionalDouble;

/**
 * One queue's backpressure now, as {@link PacketReceiver#backpressure()} reports it: what the
 * kernel may hold, what the subscriber earned, and what it asked for.
 *
 * @param queueNumber       the queue
 * @param kernelMaxLength   the max-length configured in the kernel now
 * @param headroom          unread packets the kernel keeps room for beyond the unresolved ones:
 *                          what the subscriber drains within the queue delay budget, at least the
 *                          floor (the ceiling while the rate is unknown)
 * @param drainRate         packets per second the subscriber takes while it has work, measured
 *                          over roughly its last 100 ms of work; empty until known
 * @param unresolved        packets handed out and waiting for their verdict
 * @param outstandingDemand demand requested and not yet used ({@code Long.MAX_VALUE}: unbounded),
 *                          shared by the queues of one subscription
 * @param maxLengthChanges  config messages sent to move the max-length since the queue was bound
 * @param readingStalls     times reading stayed stopped for over a second because maxInFlight
 *                          packets waited for their verdict (each is also logged): a pipeline that
 *                          strands packets, or holds more than it has room for
 */
public record QueueBackpressure(int queueNumber, int kernelMaxLength, int headroom, OptionalDouble drainRate,
                                int unresolved, long outstandingDemand, long maxLengthChanges, long readingStalls) {
}
