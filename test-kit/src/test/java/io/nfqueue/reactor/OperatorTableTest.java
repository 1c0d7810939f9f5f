package io.nfqueue.reactor;

import io.nfqueue.DefaultVerdictCause;
import io.nfqueue.Packet;
import io.nfqueue.QueueCounters;
import io.nfqueue.Verdict;
import io.nfqueue.test.GivenVerdict;
import io.nfqueue.test.OfferedPacket;
import io.nfqueue.test.TestQueue;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.IntPredicate;
import java.util.stream.Stream;

import static io.nfqueue.DefaultVerdictCause.CANCEL;
import static io.nfqueue.DefaultVerdictCause.CLOSE;
import static io.nfqueue.DefaultVerdictCause.DISCARD;
import static io.nfqueue.DefaultVerdictCause.HANDLER_ERROR;
import static io.nfqueue.reactor.KitPackets.offerUdp;
import static io.nfqueue.test.VerdictExpectation.accepted;
import static io.nfqueue.test.VerdictExpectation.defaultVerdict;
import static io.nfqueue.test.VerdictExpectation.dropped;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The synchronous rows of the operator table (docs/guide.md, "Composing operators") on the test
 * kit's queue, with the receiver's default options: filter, skip, distinct, onErrorContinue,
 * onErrorResume, in the safe form ({@code receive(packets -> ...)}) and the plain form
 * ({@code receive()...subscribe}). Packets 1..N are offered before subscribing; each one's
 * verdict, and who gave it why, is asserted. The kernel tests (OperatorTableKernelTest, in the
 * reactor adapter) show the same rows on real queues and what the verdict timeout then does to
 * stranded packets; here "stranded" is shown as a packet read long ago that still has no verdict,
 * long after the pipeline is done with it.
 */
@Timeout(60)
@ExtendWith(StallWarningGuard.class)
class OperatorTableTest {
    private static final int Q = 41;
    private static final int N = 1000;

    private static TestQueue newQueue() {
        return TestQueue.create(Q).waitAtMost(Duration.ofSeconds(10));
    }

    private static void assertNoViolations(TestQueue queue) {
        assertEquals(List.of(), queue.transportViolations(), "transport threading contract");
    }

    /** A synchronous operator that drops some packets, in both forms. */
    record Row(String name, Function<Flux<Packet>, Flux<Packet>> op, IntPredicate dropped) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Row> droppingRows() {
        return Stream.of(
                new Row("filter(id % 3 != 0)", f -> f.filter(p -> p.id() % 3 != 0), id -> id % 3 == 0),
                new Row("skip(100)", f -> f.skip(100), id -> id <= 100),
                new Row("distinct(id % 10)", f -> f.distinct(p -> p.id() % 10), id -> id > 10));
    }

    /** Safe form: what the operator drops gets the default verdict (DROP, for DISCARD) at once; the rest is the user's. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("droppingRows")
    void theSafeFormResolvesWhatItDropsAtOnce(Row row) {
        TestQueue queue = newQueue();
        offerUdp(queue, N);
        Disposable running = queue.receive(packets -> row.op().apply(packets).doOnNext(Packet::accept)).subscribe();
        try {
            queue.expectVerdicts(p -> row.dropped().test(p.id()) ? dropped().byDefault(DISCARD) : accepted());
            assertTrue(queue.isBound(), "the subscription goes on");
        } finally {
            running.dispose();
        }
        assertEquals("", queue.exactlyOnceProblems());
        assertNoViolations(queue);
    }

    /**
     * Plain form: what the operator drops is stranded. The kept packets are accepted, the dropped
     * ones stay unresolved (the kernel holds them) long after the pipeline is done with them:
     * only the verdict timeout (5 s; OperatorTableKernelTest shows it) or the end of the
     * subscription (here: CANCEL) gives them a verdict.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("droppingRows")
    void thePlainFormStrandsWhatItDrops(Row row) {
        TestQueue queue = newQueue();
        List<OfferedPacket> offered = offerUdp(queue, N);
        long keptCount = offered.stream().filter(p -> !row.dropped().test(p.id())).count();
        PacketReceiver receiver = queue.receiver();
        Disposable running = row.op().apply(receiver.receive()).subscribe(Packet::accept);
        try {
            Await.until(() -> queue.unread() == 0 && queue.verdicts().size() == keptCount,
                    () -> "all read, the kept ones accepted: " + receiver.counters());
            Await.quiet();
            for (OfferedPacket p : offered) {
                if (row.dropped().test(p.id())) {
                    assertTrue(queue.verdictOf(p).isEmpty(), "stranded: " + p + " got " + queue.verdictOf(p));
                } else {
                    assertTrue(queue.verdictOf(p).map(GivenVerdict::byProgram).orElse(false), p + ": the user's ACCEPT");
                }
            }
            QueueCounters c = receiver.counters().get(0);
            assertEquals(N - keptCount, c.unresolved(), "stranded: " + c);
            assertEquals(0, c.totalDefaultVerdicts(), "no default verdict: " + c);
        } finally {
            running.dispose();
        }
        queue.expectVerdicts(p -> row.dropped().test(p.id()) ? defaultVerdict(CANCEL) : accepted());
        assertEquals("", queue.exactlyOnceProblems());
        assertNoViolations(queue);
    }

    private static Packet failEveryTenth(Packet p) {
        if (p.id() % 10 == 0) {
            throw new IllegalStateException("cannot inspect packet " + p.id());
        }
        return p;
    }

    /**
     * onErrorContinue: the safe form's own resume path resolves a failed packet at once
     * (HANDLER_ERROR); an onErrorContinue of the user's own, in either form, takes the error and
     * leaves the packet stranded; one whose consumer gives the verdict resolves it at once.
     */
    @Test
    void onErrorContinue() {
        IntPredicate failing = id -> id % 10 == 0;
        // 1. the safe form, no onErrorContinue of one's own
        TestQueue q1 = newQueue();
        offerUdp(q1, N);
        Disposable d1 = q1.receive(packets -> packets.map(OperatorTableTest::failEveryTenth)
                .doOnNext(Packet::accept)).subscribe();
        try {
            q1.expectVerdicts(p -> failing.test(p.id()) ? dropped().byDefault(HANDLER_ERROR) : accepted());
        } finally {
            d1.dispose();
        }
        assertNoViolations(q1);
        // 2, 3. the user's own onErrorContinue(log), safe and plain form
        for (boolean safe : new boolean[] {true, false}) {
            TestQueue q = newQueue();
            List<OfferedPacket> offered = offerUdp(q, N);
            PacketReceiver r = q.receiver();
            AtomicInteger logged = new AtomicInteger();
            Disposable d = safe
                    ? r.receive(packets -> packets.map(OperatorTableTest::failEveryTenth)
                            .onErrorContinue((e, v) -> logged.incrementAndGet())
                            .doOnNext(Packet::accept)).subscribe()
                    : r.receive().map(OperatorTableTest::failEveryTenth)
                            .onErrorContinue((e, v) -> logged.incrementAndGet())
                            .subscribe(Packet::accept);
            String form = safe ? "safe" : "plain";
            try {
                Await.until(() -> q.verdicts().size() == N - N / 10, () -> form + ": " + r.counters());
                Await.quiet();
                assertEquals(N / 10, logged.get());
                for (OfferedPacket p : offered) {
                    assertEquals(!failing.test(p.id()), q.verdictOf(p).isPresent(), form + " form: " + p + " got "
                            + q.verdictOf(p) + " (the failed ones are stranded, the rest accepted)");
                }
                assertEquals(N / 10, r.counters().get(0).unresolved(), form + " form: stranded");
                assertTrue(q.verdicts().stream().allMatch(GivenVerdict::byProgram), form + " form: no default verdict");
            } finally {
                d.dispose();
            }
            q.expectVerdicts(p -> failing.test(p.id()) ? defaultVerdict(CANCEL) : accepted());
            assertNoViolations(q);
        }
        // 4. the fix: the consumer gives the verdict
        TestQueue q4 = newQueue();
        offerUdp(q4, N);
        Disposable d4 = q4.receive().map(OperatorTableTest::failEveryTenth)
                .onErrorContinue((e, v) -> ((Packet) v).drop())
                .subscribe(Packet::accept);
        try {
            q4.expectVerdicts(p -> failing.test(p.id()) ? dropped() : accepted());
        } finally {
            d4.dispose();
        }
        assertEquals("", q4.exactlyOnceProblems());
        assertNoViolations(q4);
    }

    /**
     * onErrorResume after a map that throws. Safe form: the library's resume path takes the
     * element's error first, so the user's fallback never runs: the failed packet gets
     * HANDLER_ERROR at once and the pipeline goes on. Plain form: the first error ends the
     * subscription (the fallback runs once, here Flux.empty(), and completes): the failed packet
     * and the others read but not delivered get CANCEL at once, those still in the socket CLOSE;
     * the queue is unbound, so later packets no longer reach the program.
     */
    @Test
    void onErrorResume() {
        int n = 100;
        AtomicInteger safeFallbacks = new AtomicInteger();
        TestQueue q1 = newQueue();
        offerUdp(q1, n);
        Disposable d1 = q1.receive(packets -> packets.map(OperatorTableTest::failEveryTenth)
                .onErrorResume(e -> {
                    safeFallbacks.incrementAndGet();
                    return Flux.empty();
                })
                .doOnNext(Packet::accept)).subscribe();
        try {
            q1.expectVerdicts(p -> p.id() % 10 == 0 ? defaultVerdict(HANDLER_ERROR) : accepted());
            assertEquals(0, safeFallbacks.get(), "the fallback never ran");
            assertTrue(q1.isBound(), "the subscription goes on");
        } finally {
            d1.dispose();
        }
        assertNoViolations(q1);

        AtomicInteger plainFallbacks = new AtomicInteger();
        AtomicInteger completed = new AtomicInteger();
        TestQueue q2 = newQueue();
        offerUdp(q2, n);
        q2.receive().map(OperatorTableTest::failEveryTenth)
                .onErrorResume(e -> {
                    plainFallbacks.incrementAndGet();
                    return Flux.empty();
                })
                .subscribe(Packet::accept, e -> { }, completed::incrementAndGet);
        // map cancels upstream (which unbinds) before it signals the error, on the receive thread:
        // wait for the end of the chain, not only for the unbind.
        Await.until(() -> !q2.isBound() && completed.get() == 1, () -> "unbound and completed after the first error: " + q2);
        assertEquals(1, plainFallbacks.get());
        assertEquals(1, completed.get());
        assertTrue(q2.awaitVerdicts(n, Duration.ofSeconds(10)), q2.verdicts().toString());
        for (GivenVerdict g : q2.verdicts()) {
            int id = g.packet().id();
            Set<DefaultVerdictCause> causes = id < 10 ? Set.of() : id == 10 ? Set.of(CANCEL) : Set.of(CANCEL, CLOSE);
            String what = id < 10 ? "delivered and accepted" : id == 10 ? "the failed one: the default verdict for CANCEL"
                    : "read but not delivered (CANCEL) or still in the socket (CLOSE)";
            assertTrue(id < 10 ? g.byProgram() && g.verdict().kind() == Verdict.Kind.ACCEPT
                    : causes.contains(g.defaultCause().orElse(null)) && g.verdict().kind() == Verdict.Kind.DROP,
                    g + ": expected " + what);
        }
        assertEquals("", q2.exactlyOnceProblems());
        assertNoViolations(q2);
    }
}
