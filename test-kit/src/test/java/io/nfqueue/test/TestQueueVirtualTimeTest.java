package io.nfqueue.test;

import io.nfqueue.DefaultVerdictCause;
import io.nfqueue.Packet;
import io.nfqueue.Verdict;
import io.nfqueue.reactor.ReceiverOptions;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

import java.time.Duration;

import static io.nfqueue.test.VerdictExpectation.accepted;
import static io.nfqueue.test.VerdictExpectation.dropped;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The receiver on virtual time: timeouts and delays fire when the StepVerifier says so, not after real seconds. */
class TestQueueVirtualTimeTest {
    private static byte[] ipv4(int lastByte) {
        byte[] b = new byte[20];
        b[0] = 0x45;
        b[3] = 20;
        b[8] = 64;
        b[19] = (byte) lastByte;
        return b;
    }

    @Test
    void aDecisionThatTakesOneVirtualSecondIsGivenWithinTwoAndTheTimeoutFiresAtFive() {
        TestQueue queue = TestQueue.create();
        long start = System.nanoTime();
        StepVerifier.withVirtualTime(() -> queue.receive(packets -> packets.concatMap(p -> {
                    switch (p.payloadBytes()[19]) {
                        case 1:
                            return Mono.fromRunnable(p::accept);
                        case 2:
                            return Mono.fromRunnable(p::drop);
                        case 3:
                            return Mono.delay(Duration.ofSeconds(1)).doOnNext(x -> p.verdict(Verdict.accept().withMark(7)));
                        default:
                            return Mono.empty(); // forgets the packet: the verdict timeout (5 s) resolves it
                    }
                })))
                .then(() -> queue.offer(ipv4(1), ipv4(2), ipv4(3), ipv4(4)))
                .then(queue::awaitRead)
                .thenAwait(Duration.ofSeconds(2))
                .then(() -> assertTrue(queue.awaitVerdicts(3, Duration.ofSeconds(5)), queue.verdicts().toString()))
                .then(() -> assertEquals(3, queue.verdicts().size(), "the fourth waits for its timeout"))
                .thenAwait(Duration.ofSeconds(4))
                .then(() -> queue.expectVerdicts(accepted(), dropped(), accepted().withMark(7),
                        VerdictExpectation.defaultVerdict(DefaultVerdictCause.TIMEOUT)))
                .thenCancel()
                .verify(Duration.ofSeconds(30));
        assertTrue(System.nanoTime() - start < Duration.ofSeconds(5).toNanos(), "virtual time, not real seconds");
    }

    @Test
    void theStallWarningFiresAfterOneVirtualSecondAtTheInFlightLimit() {
        TestQueue queue = TestQueue.create();
        ReceiverOptions options = ReceiverOptions.queue(0).maxInFlight(2).noVerdictTimeout();
        StepVerifier.withVirtualTime(() -> queue.receive(options, packets -> packets.filter(p -> false)
                        .map(Packet::id)), 0)
                .then(() -> queue.offer(ipv4(1), ipv4(2), ipv4(3)))
                .thenRequest(Long.MAX_VALUE)
                .then(() -> assertEquals(0, queue.backpressure().orElseThrow().readingStalls()))
                .thenAwait(Duration.ofSeconds(2))
                .then(() -> assertEquals(1, queue.backpressure().orElseThrow().readingStalls()))
                .thenCancel()
                .verify(Duration.ofSeconds(30));
    }
}
