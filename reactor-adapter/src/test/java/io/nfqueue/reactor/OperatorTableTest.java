package io.nfqueue.reactor;

import io.nfqueue.DefaultVerdictCause;
import io.nfqueue.Packet;
import io.nfqueue.QueueCounters;
import io.nfqueue.internal.NativeConstants;
import io.nfqueue.internal.fake.FakeTransport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
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
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The synchronous rows of the operator table (docs/guide.md, "Composing operators") over the fake transport, with
 * the receiver's default options: filter, skip, distinct, onErrorContinue, onErrorResume, in the
 * safe form ({@code receive(packets -> ...)}) and the plain form ({@code receive()...subscribe}).
 * Packets 1..N are offered before subscribing; the fake records every verdict by packet id. The
 * kernel tests (OperatorTableKernelTest) show the same rows on real queues and what the verdict
 * timeout then does to stranded packets; here "stranded" is shown as the fake kernel still
 * holding the packet, with no verdict, long after the pipeline is done with it.
 */
@Timeout(60)
class OperatorTableTest {
    private static final int Q = 41;
    private static final int N = 1000;
    private final FakeQueues fakes = new FakeQueues();
    private final int accept = NativeConstants.get().nfAccept;
    private final int drop = NativeConstants.get().nfDrop;

    @AfterEach
    void tearDown() {
        assertEquals(List.of(), fakes.violations(), "transport threading contract");
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

    private Set<Integer> ids(IntPredicate which) {
        return IntStream.rangeClosed(1, N).filter(which).boxed().collect(Collectors.toSet());
    }

    private Set<Integer> withVerdict(FakeTransport fake, int code) {
        return fake.verdictCounts().keySet().stream().filter(id -> fake.verdictCodeFor(id) == code)
                .collect(Collectors.toSet());
    }

    /** Safe form: what the operator drops gets the default verdict (DISCARD) at once; the rest is the user's. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("droppingRows")
    void theSafeFormResolvesWhatItDropsAtOnce(Row row) {
        FakeTransport fake = fakes.next(Q).offerMany(1, N, Q);
        PacketReceiver receiver = fakes.receiver(ReceiverOptions.queue(Q));
        Disposable running = receiver.receive(packets -> row.op().apply(packets).doOnNext(Packet::accept)).subscribe();
        try {
            assertTrue(fake.awaitVerdicts(N, Duration.ofSeconds(5)), "every packet resolved: " + receiver.counters());
            QueueCounters c = receiver.counters().get(0);
            Set<Integer> dropped = ids(row.dropped());
            assertEquals(dropped.size(), c.defaultVerdicts(DefaultVerdictCause.DISCARD), c.toString());
            assertEquals(dropped.size(), c.totalDefaultVerdicts(), c.toString());
            assertEquals(dropped, withVerdict(fake, drop), "the dropped ones got the default verdict, DROP");
            assertEquals(ids(row.dropped().negate()), withVerdict(fake, accept), "the rest the user's ACCEPT");
            assertEquals(0, c.unresolved());
            assertFalse(fake.isClosed(), "the subscription goes on");
        } finally {
            running.dispose();
        }
        assertEquals("", fakes.exactlyOnceProblems());
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
        FakeTransport fake = fakes.next(Q).offerMany(1, N, Q);
        PacketReceiver receiver = fakes.receiver(ReceiverOptions.queue(Q));
        Disposable running = row.op().apply(receiver.receive()).subscribe(Packet::accept);
        Set<Integer> dropped = ids(row.dropped());
        try {
            Await.until(() -> receiver.counters().get(0).received() == N
                            && receiver.counters().get(0).verdictsSent() == N - dropped.size(),
                    () -> "the kept ones accepted: " + receiver.counters());
            Await.quiet();
            QueueCounters c = receiver.counters().get(0);
            assertEquals(dropped.size(), c.unresolved(), "stranded: " + c);
            assertEquals(0, c.totalDefaultVerdicts(), "no default verdict: " + c);
            assertEquals(dropped, fake.held(), "the kernel holds exactly the dropped ones");
        } finally {
            running.dispose();
        }
        QueueCounters end = receiver.counters().get(0);
        assertEquals(dropped.size(), end.defaultVerdicts(DefaultVerdictCause.CANCEL), "resolved by the cancel: " + end);
        assertEquals("", fakes.exactlyOnceProblems());
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
        Set<Integer> failing = ids(id -> id % 10 == 0);
        // 1. the safe form, no onErrorContinue of one's own
        FakeTransport f1 = fakes.next(Q).offerMany(1, N, Q);
        PacketReceiver r1 = fakes.receiver(ReceiverOptions.queue(Q));
        Disposable d1 = r1.receive(packets -> packets.map(OperatorTableTest::failEveryTenth)
                .doOnNext(Packet::accept)).subscribe();
        try {
            assertTrue(f1.awaitVerdicts(N, Duration.ofSeconds(5)), r1.counters().toString());
            assertEquals(failing.size(), r1.counters().get(0).defaultVerdicts(DefaultVerdictCause.HANDLER_ERROR));
            assertEquals(failing, withVerdict(f1, drop));
        } finally {
            d1.dispose();
        }
        // 2, 3. the user's own onErrorContinue(log), safe and plain form
        for (boolean safe : new boolean[] {true, false}) {
            FakeTransport f = fakes.prepareAnother(Q).offerMany(1, N, Q);
            PacketReceiver r = fakes.receiver(ReceiverOptions.queue(Q));
            AtomicInteger logged = new AtomicInteger();
            Disposable d = safe
                    ? r.receive(packets -> packets.map(OperatorTableTest::failEveryTenth)
                            .onErrorContinue((e, v) -> logged.incrementAndGet())
                            .doOnNext(Packet::accept)).subscribe()
                    : r.receive().map(OperatorTableTest::failEveryTenth)
                            .onErrorContinue((e, v) -> logged.incrementAndGet())
                            .subscribe(Packet::accept);
            try {
                Await.until(() -> r.counters().get(0).verdictsSent() == N - failing.size(), () -> r.counters().toString());
                Await.quiet();
                assertEquals(failing.size(), logged.get());
                assertEquals(failing.size(), r.counters().get(0).unresolved(), (safe ? "safe" : "plain") + " form: stranded");
                assertEquals(0, r.counters().get(0).totalDefaultVerdicts());
                assertEquals(failing, f.held());
            } finally {
                d.dispose();
            }
        }
        // 4. the fix: the consumer gives the verdict
        FakeTransport f4 = fakes.prepareAnother(Q).offerMany(1, N, Q);
        PacketReceiver r4 = fakes.receiver(ReceiverOptions.queue(Q));
        Disposable d4 = r4.receive().map(OperatorTableTest::failEveryTenth)
                .onErrorContinue((e, v) -> ((Packet) v).drop())
                .subscribe(Packet::accept);
        try {
            assertTrue(f4.awaitVerdicts(N, Duration.ofSeconds(5)), r4.counters().toString());
            assertEquals(0, r4.counters().get(0).totalDefaultVerdicts(), "the user's own DROP");
            assertEquals(failing, withVerdict(f4, drop));
        } finally {
            d4.dispose();
        }
        assertEquals("", fakes.exactlyOnceProblems());
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
        FakeTransport f1 = fakes.next(Q).offerMany(1, n, Q);
        PacketReceiver r1 = fakes.receiver(ReceiverOptions.queue(Q));
        Disposable d1 = r1.receive(packets -> packets.map(OperatorTableTest::failEveryTenth)
                .onErrorResume(e -> {
                    safeFallbacks.incrementAndGet();
                    return Flux.empty();
                })
                .doOnNext(Packet::accept)).subscribe();
        try {
            assertTrue(f1.awaitVerdicts(n, Duration.ofSeconds(5)), r1.counters().toString());
            assertEquals(0, safeFallbacks.get(), "the fallback never ran");
            assertEquals(n / 10, r1.counters().get(0).defaultVerdicts(DefaultVerdictCause.HANDLER_ERROR));
            assertFalse(f1.isClosed(), "the subscription goes on");
        } finally {
            d1.dispose();
        }
        AtomicInteger plainFallbacks = new AtomicInteger();
        AtomicInteger completed = new AtomicInteger();
        FakeTransport f2 = fakes.prepareAnother(Q).offerMany(1, n, Q);
        PacketReceiver r2 = fakes.receiver(ReceiverOptions.queue(Q));
        r2.receive().map(OperatorTableTest::failEveryTenth)
                .onErrorResume(e -> {
                    plainFallbacks.incrementAndGet();
                    return Flux.empty();
                })
                .subscribe(Packet::accept, e -> { }, completed::incrementAndGet);
        Await.until(f2::isClosed, () -> "unbound after the first error: " + r2.counters());
        QueueCounters c = r2.counters().get(0);
        assertEquals(1, plainFallbacks.get());
        assertEquals(1, completed.get());
        assertEquals(9, withVerdict(f2, accept).size(), "packets 1..9 delivered: " + c);
        assertEquals(Set.of(10), ids(id -> id == 10).stream().filter(id -> f2.verdictCodeFor(id) == drop)
                .collect(Collectors.toSet()), "the failed packet got the default verdict");
        assertEquals(n - 9, c.defaultVerdicts(DefaultVerdictCause.CANCEL)
                + c.defaultVerdicts(DefaultVerdictCause.CLOSE), c.toString());
        assertTrue(c.defaultVerdicts(DefaultVerdictCause.CANCEL) >= 1, "the failed one, at least: " + c);
        assertEquals(0, c.defaultVerdicts(DefaultVerdictCause.TIMEOUT));
        assertEquals("", fakes.exactlyOnceProblems());
    }
}
