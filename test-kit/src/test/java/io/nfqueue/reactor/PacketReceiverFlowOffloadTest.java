package io.nfqueue.reactor;

import io.nfqueue.FlowOffload;
import io.nfqueue.Packet;
import io.nfqueue.Verdict;
import io.nfqueue.test.GivenVerdict;
import io.nfqueue.test.TestQueue;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalInt;
import java.util.function.Function;

import static io.nfqueue.DefaultVerdictCause.CANCEL;
import static io.nfqueue.DefaultVerdictCause.CLOSE;
import static io.nfqueue.DefaultVerdictCause.HANDLER_ERROR;
import static io.nfqueue.reactor.KitPackets.offerUdp;
import static io.nfqueue.test.VerdictExpectation.acceptedFlow;
import static io.nfqueue.test.VerdictExpectation.anyVerdict;
import static io.nfqueue.test.VerdictExpectation.defaultVerdict;
import static io.nfqueue.test.VerdictExpectation.droppedFlow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

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

    /**
     * A burst of 500 through the operators users put between the receiver and the decision, with
     * the receiver's defaults: every packet gets its flow decision exactly once, and those that
     * {@code filter} drops get a default (no discard hook here: at the cancel), never a decision
     * and never none.
     */
    @Test
    void flowDecisionsThroughOrdinaryOperatorsOnABurst() {
        int burst = 500;
        ReceiverOptions options = ReceiverOptions.queue(Q).queueOptions(q -> q.flowOffload(FLOWS));
        Map<String, Function<Flux<Packet>, Flux<Packet>>> pipelines = new LinkedHashMap<>();
        pipelines.put("publishOn", f -> f.publishOn(Schedulers.parallel()).doOnNext(PacketReceiverFlowOffloadTest::decide));
        pipelines.put("concatMap", f -> f.concatMap(p -> Mono.fromCallable(() -> decide(p))
                .subscribeOn(Schedulers.boundedElastic())));
        pipelines.put("flatMap", f -> f.flatMap(p -> Mono.fromCallable(() -> decide(p))
                .subscribeOn(Schedulers.parallel()), 16));
        pipelines.put("groupBy", f -> f.groupBy(p -> p.id() % 4).flatMap(g -> g.doOnNext(PacketReceiverFlowOffloadTest::decide)));
        pipelines.put("filter", f -> f.filter(p -> p.id() % 5 != 0).doOnNext(PacketReceiverFlowOffloadTest::decide));
        for (Map.Entry<String, Function<Flux<Packet>, Flux<Packet>>> e : pipelines.entrySet()) {
            TestQueue queue = TestQueue.create(Q).withoutConntrackGlue().waitAtMost(VERIFY);
            offerUdp(queue, burst);
            StepVerifier.create(queue.receiver(options).receive().transform(e.getValue()).take(e.getKey().equals("filter")
                            ? burst - burst / 5 : burst))
                    .thenConsumeWhile(p -> true)
                    .expectComplete()
                    .verify(VERIFY);
            boolean filtered = e.getKey().equals("filter");
            queue.expectVerdicts(p -> filtered && p.id() % 5 == 0 ? anyVerdict()
                    : p.id() % 2 == 0 ? droppedFlow() : acceptedFlow());
            if (filtered) {
                // Read before take's cancel: CANCEL; the last one may still be in the socket: CLOSE.
                assertTrue(queue.verdicts().stream().filter(g -> g.packet().id() % 5 == 0)
                        .allMatch(g -> g.defaultCause().filter(c -> c == CANCEL || c == CLOSE).isPresent()));
            }
            assertEquals("", queue.exactlyOnceProblems(), e.getKey());
        }
    }

    private static Packet decide(Packet p) {
        if (p.id() % 2 == 0) {
            p.dropFlow();
        } else {
            p.acceptFlow();
        }
        return p;
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
