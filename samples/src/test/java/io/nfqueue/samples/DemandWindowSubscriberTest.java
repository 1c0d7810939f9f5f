package io.nfqueue.samples;

import io.nfqueue.BoundQueue;
import io.nfqueue.DefaultVerdictCause;
import io.nfqueue.Packet;
import io.nfqueue.QueueOptions;
import io.nfqueue.Verdict;
import io.nfqueue.reactor.ReceiverOptions;
import io.nfqueue.test.Packets;
import io.nfqueue.test.TestQueue;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static io.nfqueue.test.VerdictExpectation.accepted;
import static io.nfqueue.test.VerdictExpectation.defaultVerdict;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The stats command's subscriber, on the test kit's queue (no kernel, no root). */
class DemandWindowSubscriberTest {

    /**
     * stats closing under Ctrl-C resolves the packets in flight with the default verdict; one of
     * them may still reach the subscriber. That is the end of a run, not an error to log.
     */
    @Test
    void aPacketTheClosingQueueAlreadyResolvedIsAcceptedQuietly() {
        TestQueue queue = TestQueue.create(3);
        queue.offer(Packets.udp().build(), Packets.udp().build());
        try (BoundQueue bound = queue.bind(QueueOptions.queue(3))) {
            List<Packet> packets = new ArrayList<>();
            bound.receive(packets::add, 2);
            assertEquals(2, packets.size());
            packets.get(0).defaultVerdict(DefaultVerdictCause.CLOSE);

            DemandWindowSubscriber subscriber = new DemandWindowSubscriber(4);
            assertDoesNotThrow(() -> subscriber.hookOnNext(packets.get(0)));
            subscriber.hookOnNext(packets.get(1));
            assertTrue(packets.get(1).isResolved(), "an unresolved packet is accepted");
        }
        queue.expectVerdicts(defaultVerdict(DefaultVerdictCause.CLOSE), accepted());
    }

    /**
     * Subscribed to a receiver as the stats command subscribes it: every packet accepted, and the
     * demand held out moves between half the window and the window, which is what the receiver
     * sees as the subscriber's outstanding demand.
     */
    @Test
    void itAcceptsEveryPacketAndAsksAWindowAtATime() throws InterruptedException {
        TestQueue queue = TestQueue.create(19);
        for (int i = 0; i < 100; i++) {
            queue.offer(Packets.udp().from("10.0.0.1", 40000 + i).to("10.0.0.2", 9).build());
        }
        DemandWindowSubscriber subscriber = new DemandWindowSubscriber(8);
        queue.receiver(ReceiverOptions.queue(19).defaultVerdict(Verdict.accept())).receive().subscribe(subscriber);
        try {
            queue.expectVerdicts(p -> accepted());
            long outstanding = subscriber.outstanding();
            assertTrue(outstanding > 4 && outstanding <= 8, "outstanding " + outstanding);
            assertEquals(100 + outstanding, subscriber.requested());
            long seen = -1;
            for (int i = 0; i < 250 && seen != outstanding; i++) {   // the receiver settles its demand after a read
                seen = queue.backpressure().orElseThrow().outstandingDemand();
                Thread.sleep(2);
            }
            assertEquals(outstanding, seen, "the receiver's view of the demand");
        } finally {
            subscriber.dispose();
        }
        assertEquals(null, subscriber.failure());
    }
}
