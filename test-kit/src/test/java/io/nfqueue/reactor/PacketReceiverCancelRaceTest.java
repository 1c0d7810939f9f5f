package io.nfqueue.reactor;

import io.nfqueue.Verdict;
import io.nfqueue.test.Packets;
import io.nfqueue.test.TestQueue;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

import java.time.Duration;

import static io.nfqueue.DefaultVerdictCause.CANCEL;
import static io.nfqueue.test.VerdictExpectation.defaultVerdict;

/**
 * A cancel racing the delivery of packets already read: the receive thread hands the last ones
 * to the pipeline while the subscriber cancels, so some get the CANCEL default on the receive
 * thread and the rest on the cancelling one, around the queue's close. Each must get it once, and
 * the resolution listener (which the kit, metrics and audit logs rely on) must be told of each,
 * also when the receive thread is descheduled until the close has returned: before the listener
 * was read inside the claim step, 6 to 8 of 400 rounds under load ended with a packet the
 * listener never heard of.
 */
class PacketReceiverCancelRaceTest {
    private static final int ROUNDS = 200;
    private static final int PACKETS = 5;

    @Test
    void everyPacketOfACancelledPipelineGetsTheCancelDefaultAndIsToldOnce() {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        for (int round = 0; round < ROUNDS && System.nanoTime() < deadline; round++) {
            TestQueue queue = TestQueue.create(11).waitAtMost(Duration.ofSeconds(5));
            for (int i = 0; i < PACKETS; i++) {
                queue.offer(Packets.udp().from("10.0.0.1", 49152 + i).to("10.0.0.2", 9).payload("x").build());
            }
            StepVerifier.create(queue.receiver().processAsync(p -> Mono.<Verdict>never(), PACKETS))
                    .expectSubscription()
                    .then(() -> Await.until(() -> queue.unread() == 0, () -> "all read"))
                    .thenCancel()
                    .verify(Duration.ofSeconds(10));
            queue.expectVerdicts(p -> defaultVerdict(CANCEL));
            queue.close();
        }
    }
}
