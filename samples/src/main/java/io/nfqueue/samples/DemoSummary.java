package io.nfqueue.samples;

import io.nfqueue.QueueStats;

import java.util.OptionalInt;

/**
 * What one demo run saw.
 *
 * @param seen      packets the demo received from the queue
 * @param accepted  packets it accepted
 * @param dropped   packets it dropped
 * @param sent      datagrams the traffic generator says it sent (empty if it did not finish)
 * @param arrived   datagrams that reached the generator's socket (empty if it did not finish)
 * @param kernel    the kernel's line for the queue just before it was unbound
 * @param namespace the name of the namespace the demo made
 */
public record DemoSummary(int seen, int accepted, int dropped, OptionalInt sent, OptionalInt arrived,
                          QueueStats kernel, String namespace) {

    /** A few lines for the end of the demo. */
    String describe() {
        StringBuilder s = new StringBuilder();
        s.append("summary: ").append(seen).append(" packets seen, ").append(accepted).append(" accepted, ")
                .append(dropped).append(" dropped\n");
        if (sent.isPresent() && arrived.isPresent()) {
            s.append("traffic: ").append(sent.getAsInt()).append(" datagrams sent, ").append(arrived.getAsInt())
                    .append(" arrived at the receiver\n");
        }
        if (kernel != null) {
            s.append("kernel:  queue ").append(kernel.queueNumber()).append(", port id ").append(kernel.portId())
                    .append(", ").append(kernel.queued()).append(" waiting for a verdict, copy mode ")
                    .append(kernel.copyMode()).append(" range ").append(kernel.copyRange()).append(", ")
                    .append(kernel.queueDropped()).append(" dropped (queue full), ").append(kernel.userDropped())
                    .append(" dropped (socket full), last id ").append(kernel.lastPacketId());
        }
        return s.toString().stripTrailing();
    }
}
