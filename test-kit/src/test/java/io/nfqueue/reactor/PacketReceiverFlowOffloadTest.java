package io.nfqueue.reactor;

import io.nfqueue.FlowOffload;
import io.nfqueue.Verdict;
import io.nfqueue.test.GivenVerdict;
import io.nfqueue.test.TestQueue;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import reactor.test.StepVerifier;

import java.time.Duration;
import java.util.OptionalInt;

import static io.nfqueue.DefaultVerdictCause.HANDLER_ERROR;
import static io.nfqueue.reactor.KitPackets.offerUdp;
import static io.nfqueue.test.VerdictExpectation.acceptedFlow;
import static io.nfqueue.test.VerdictExpectation.defaultVerdict;
import static io.nfqueue.test.VerdictExpectation.droppedFlow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** Flow decisions as a Reactor program gives them: on the element, and as process(...)'s return value. */
@Timeout(60)
class PacketReceiverFlowOffloadTest {
    private static final int Q = 5;
    private static final Duration VERIFY = Duration.ofSeconds(10);
    private static final FlowOffload FLOWS = FlowOffload.mask(0x0030_0000);

    @Test
    void processReturnsFlowDecisionsAndTheKitSeesWhichFlowEachPacketDecided() {
        TestQueue queue = TestQueue.create(Q).withoutConntrackGlue().waitAtMost(VERIFY);
        offerUdp(queue, 6);
        ReceiverOptions options = ReceiverOptions.queue(Q).queueOptions(q -> q.flowOffload(FLOWS));
        StepVerifier.create(queue.receiver(options).process(p -> p.id() % 2 == 0 ? Verdict.dropFlow() : Verdict.acceptFlow())
                        .take(6))
                .expectNextCount(6)
                .expectComplete()
                .verify(VERIFY);
        queue.expectVerdicts(p -> p.id() % 2 == 0 ? droppedFlow().withMark(0x0020_0000) : acceptedFlow());
        // Without the glue, ACCEPT mode: a dropped flow's packet goes out accepted, with the drop value.
        GivenVerdict second = queue.verdicts().get(1);
        assertEquals(Verdict.Kind.ACCEPT, second.verdict().kind());
        assertEquals(OptionalInt.of(0x0020_0000), second.verdict().mark());
    }

    @Test
    void onTheElementInAPipelineAndWithTheGlue() {
        TestQueue queue = TestQueue.create(Q).waitAtMost(VERIFY);
        offerUdp(queue, 4);
        ReceiverOptions options = ReceiverOptions.queue(Q).queueOptions(q -> q.flowOffload(FLOWS.mode(FlowOffload.Mode.REPEAT)));
        StepVerifier.create(queue.receiver(options).receive().doOnNext(p -> p.acceptFlow()).take(4))
                .expectNextCount(4)
                .expectComplete()
                .verify(VERIFY);
        queue.expectVerdicts(acceptedFlow(), acceptedFlow(), acceptedFlow(), acceptedFlow());
        // The glue sets the connection mark in the verdict: a plain ACCEPT, no REPEAT round.
        assertEquals(Verdict.Kind.ACCEPT, queue.verdicts().get(0).verdict().kind());
    }

    @Test
    void aFlowDecisionWithoutFlowOffloadIsAHandlerErrorNotALostPacket() {
        TestQueue queue = TestQueue.create(Q).waitAtMost(VERIFY);
        offerUdp(queue, 2);
        StepVerifier.create(queue.receiver(ReceiverOptions.queue(Q)).process(p -> Verdict.acceptFlow()).take(2))
                .expectNextCount(2)
                .expectComplete()
                .verify(VERIFY);
        queue.expectVerdicts(defaultVerdict(HANDLER_ERROR), defaultVerdict(HANDLER_ERROR));
        assertFalse(queue.verdicts().get(0).verdict().isFlowDecision());
    }
}
