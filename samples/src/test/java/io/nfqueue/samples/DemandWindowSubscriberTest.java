package io.nfqueue.samples;

import io.nfqueue.BoundQueue;
import io.nfqueue.DefaultVerdictCause;
import io.nfqueue.Packet;
import io.nfqueue.QueueOptions;
import io.nfqueue.internal.fake.FakeTransport;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DemandWindowSubscriberTest {

    /**
     * stats closing under Ctrl-C resolves the packets in flight with the default verdict; one of
     * them may still reach the subscriber. That is the end of a run, not an error to log.
     */
    @Test
    void aPacketTheClosingQueueAlreadyResolvedIsAcceptedQuietly() {
        try (BoundQueue queue = BoundQueue.open(QueueOptions.queue(3), new FakeTransport().offerMany(1, 2, 3))) {
            List<Packet> packets = new ArrayList<>();
            queue.receive(packets::add, 2);
            assertEquals(2, packets.size());
            packets.get(0).defaultVerdict(DefaultVerdictCause.CLOSE);

            DemandWindowSubscriber subscriber = new DemandWindowSubscriber(4);
            assertDoesNotThrow(() -> subscriber.hookOnNext(packets.get(0)));
            subscriber.hookOnNext(packets.get(1));
            assertTrue(packets.get(1).isResolved(), "an unresolved packet is accepted");
            assertEquals(1, queue.counters().defaultVerdicts(DefaultVerdictCause.CLOSE));
        }
    }
}
