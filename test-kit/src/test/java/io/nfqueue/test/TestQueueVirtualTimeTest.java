package io.nfqueue.test;

import io.nfqueue.DefaultVerdictCause;
import io.nfqueue.Verdict;
import io.nfqueue.reactor.ReceiverOptions;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

import java.time.Duration;

import static io.nfqueue.test.VerdictExpectation.accepted;
import static io.nfqueue.test.VerdictExpectation.dropped;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
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
        StepVerifier.withVirtualTime(() -> queue.receive(packets -> packets.flatMap(p -> {
                    switch (p.payloadBytes()[19]) {
                        case 1:
                            return Mono.fromRunnable(p::accept);
                        case 2:
                            return Mono.fromRunnable(p::drop);
                        case 3:
                            return Mono.delay(Duration.ofSeconds(1)).doOnNext(x -> p.verdict(Verdict.accept().withMark(7)))
                                    .then();
                        default:
                            return Mono.empty(); // forgets the packet: the verdict timeout (5 s) resolves it
                    }
                })))
                .then(() -> queue.offer(ipv4(1), ipv4(2), ipv4(3), ipv4(4)))
                .then(queue::awaitDelivered)
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
        // A pipeline that holds every packet and never gives a verdict: reading stops at maxInFlight.
        StepVerifier.withVirtualTime(() -> queue.receive(options, packets -> packets.flatMap(p -> Mono.never())))
                .then(() -> queue.offer(ipv4(1), ipv4(2)))
                .then(queue::awaitDelivered)
                .thenAwait(Duration.ofMillis(900))
                .then(() -> assertEquals(0, queue.backpressure().orElseThrow().readingStalls()))
                .thenAwait(Duration.ofMillis(200))
                .then(() -> assertEquals(1, queue.backpressure().orElseThrow().readingStalls()))
                .thenCancel()
                .verify(Duration.ofSeconds(30));
        queue.expectVerdicts(VerdictExpectation.defaultVerdict(DefaultVerdictCause.CANCEL),
                VerdictExpectation.defaultVerdict(DefaultVerdictCause.CANCEL));
    }

    @Test
    void concatMapAsksForOnePacketAtATimeSoAwaitDeliveredSaysWhyTheRestIsNotThere() {
        TestQueue queue = TestQueue.create().waitAtMost(Duration.ofMillis(300));
        StepVerifier.withVirtualTime(() -> queue.receive(packets -> packets.concatMap(
                        p -> Mono.delay(Duration.ofSeconds(1)).doOnNext(x -> p.accept()).then())))
                .then(() -> queue.offer(ipv4(1), ipv4(2)))
                .then(() -> {
                    AssertionError e = assertThrows(AssertionError.class, queue::awaitDelivered);
                    assertTrue(e.getMessage().contains("has not requested them"), e.getMessage());
                })
                .thenAwait(Duration.ofSeconds(1))
                .then(() -> queue.waitAtMost(Duration.ofSeconds(5)).awaitDelivered())
                .thenAwait(Duration.ofSeconds(1))
                .then(() -> queue.expectVerdicts(accepted(), accepted()))
                .thenCancel()
                .verify(Duration.ofSeconds(30));
    }
}
