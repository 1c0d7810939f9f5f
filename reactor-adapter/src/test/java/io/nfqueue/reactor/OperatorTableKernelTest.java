package io.nfqueue.reactor;

import io.nfqueue.DefaultVerdictCause;
import io.nfqueue.Packet;
import io.nfqueue.QueueCounters;
import io.nfqueue.QueueStats;
import io.nfqueue.ResolutionListener;
import io.nfqueue.Verdict;
import io.nfqueue.VerdictAlreadyGivenException;
import io.nfqueue.packet.PacketParser;
import io.nfqueue.reactor.internal.Timings;
import io.nfqueue.test.kernel.DatagramTally;
import io.nfqueue.test.kernel.KernelTest;
import io.nfqueue.test.kernel.NetNamespace;
import io.nfqueue.test.kernel.Udp;
import io.nfqueue.testing.UdpPackets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.reactivestreams.Subscription;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.channels.DatagramChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Function;
import java.util.function.IntFunction;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The operator table of docs/guide.md ("Composing operators"), row by row, over real queues: what each operator does
 * to each packet, in the plain form ({@code receiver.receive().<op>...subscribe(...)}) and in the
 * safe form ({@code receiver.receive(packets -> packets.<op>...)}), with the receiver's default
 * options (verdict timeout 5 s, maxInFlight 1024, default verdict DROP) unless a test says why not.
 *
 * <p>Every test sends numbered UDP datagrams ("k-17": the pipeline should keep and accept it,
 * "d-18": the pipeline drops it, "x-20": the pipeline fails on it) through an NFQUEUE rule at the
 * INPUT hook of the test's namespace, one queue and port per {@link Lane}, and follows the fate
 * of each: the verdict it got, from the program or by default and why ({@link Ledger}, a
 * {@link ResolutionListener} in the receiver's options), how long after its arrival, and
 * whether it reached the sink behind the queue ({@link DatagramTally}). "At once" is within {@link #AT_ONCE} of its
 * arrival, or of the cancel that ended it (it takes microseconds to milliseconds: the bound is for
 * a loaded machine; each lane's line prints the slowest); "stranded" is a packet no
 * one gave a verdict while the subscription went on, which the kernel keeps until the verdict
 * timeout gives it the default verdict, at least 5 s after its arrival.
 *
 * <p>Lanes that must show their outcome concurrently (several 5-second waits) run side by side
 * in one test, to keep the suite short; each lane's line is printed and each assertion names it.
 */
@KernelTest
@Timeout(120)
class OperatorTableKernelTest {
    private static final int BASE_PORT = 9300;
    private static final int BASE_QUEUE = 30;
    /** A default verdict this soon after the packet arrived was given "at once", not by the timeout. */
    static final Duration AT_ONCE = Duration.ofMillis(500);
    static final Duration VERDICT_TIMEOUT = ReceiverOptions.DEFAULT_VERDICT_TIMEOUT;
    /**
     * Packets a paced sender sends beyond what the receiver has read: within the kernel queue's
     * least headroom (the max-length floor, 128), so that a receiver the machine slows down for a
     * moment never makes the kernel drop (that is backpressure, tested elsewhere, not this table).
     */
    static final int AHEAD = 64;

    @RegisterExtension
    final NetNamespace ns = NetNamespace.create();
    private final List<Lane> lanes = new ArrayList<>();

    @AfterEach
    void closeLanes() {
        for (Lane lane : lanes) {
            System.out.println(lane.report());
            lane.close();
        }
    }

    // ---------------------------------------------------------------------------------------
    // Must-have (1): filter in the safe form.

    /**
     * 6000 packets, every other one filtered out, in the safe form: every kept one arrives, every
     * filtered one gets the default verdict (DISCARD) at once, the kernel queue is back to 0 while
     * the subscription goes on, and no verdict waited for the timeout.
     */
    @Test
    void filterInTheSafeForm() throws Exception {
        Lane lane = lane("filter, safe form");
        lane.start(() -> lane.receiver.receive(packets -> packets
                        .filter(p -> text(p).startsWith("k"))
                        .doOnNext(lane::accept))
                .subscribe());
        List<String> texts = texts(6000, i -> i % 2 == 0 ? "k" : "d");
        lane.send(texts, AHEAD);
        lane.awaitAllResolved(Duration.ofSeconds(10));
        KernelWait.until(() -> lane.queued().orElse(-1) == 0, Duration.ofSeconds(5),
                () -> "the kernel queue back to 0 while subscribed: " + lane.report());
        assertTrue(lane.isBound(), "still subscribed");
        QueueCounters c = lane.counters();
        assertEquals(6000, c.received(), c.toString());
        assertEquals(6000, c.verdictsSent(), c.toString());
        assertEquals(3000, c.defaultVerdicts(DefaultVerdictCause.DISCARD), c.toString());
        assertEquals(0, c.defaultVerdicts(DefaultVerdictCause.TIMEOUT), "no verdict waited for the timeout: " + c);
        assertEquals(3000, c.totalDefaultVerdicts(), c.toString());
        lane.assertFates(t -> t.startsWith("k") ? Expect.USER : Expect.DEFAULT_AT_ONCE);
        lane.ledger.assertCauses(Set.of(DefaultVerdictCause.DISCARD));
        lane.assertNoKernelDrops();
        lane.assertSinkMatchesVerdicts();
        lane.stop();
        lane.assertExactlyOnce();
    }

    /**
     * The plain form with a filter: what it drops is stranded. With the default maxInFlight (1024)
     * and 2048 packets of which 1024 are filtered, reading stops at the in-flight limit, the stall
     * warning fires after a second, and the kernel holds the stranded packets (and the later ones)
     * until the verdict timeout gives them the default verdict, 5 s after their arrival; then
     * reading goes on and the later packets are delivered: slow, loud, never stuck for good.
     */
    @Test
    @ExpectsStallWarning(required = true)
    void filterInThePlainFormStrandsUntilTheTimeoutAndWarns() throws Exception {
        Lane lane = lane("filter, plain form");
        lane.start(() -> lane.receiver.receive()
                .filter(p -> text(p).startsWith("k"))
                .subscribe(lane::accept));
        int limit = lane.receiver.options().maxInFlight();
        assertEquals(1024, limit, "the default");
        lane.send(texts(2 * limit, i -> i % 2 == 0 ? "k" : "d"), AHEAD);
        KernelWait.until(() -> lane.counters().unresolved() == limit, Duration.ofSeconds(5),
                () -> "the filtered half stranded: " + lane.report());
        KernelWait.until(() -> lane.receiver.backpressure().get(0).readingStalls() >= 1, Duration.ofSeconds(3),
                () -> "reading stalled at maxInFlight: " + lane.receiver.backpressure());
        List<String> warnings = StallWarningGuard.warnings();
        assertEquals(1, warnings.size(), warnings.toString());
        assertTrue(warnings.get(0).contains("queue " + lane.queue + ":")
                && warnings.get(0).contains(limit + " packets (maxInFlight)"), warnings.get(0));
        // Stranded: no verdict yet, the kernel holds every one of them.
        assertEquals(0, lane.counters().defaultVerdicts(DefaultVerdictCause.TIMEOUT));
        assertEquals(limit, lane.queued().orElse(-1), "the kernel holds the stranded packets");
        // Packets sent now wait in the kernel: reading has stopped.
        List<String> late = texts("k-late", 100);
        lane.send(late, 0);
        Thread.sleep(300);
        assertEquals(2L * limit, lane.counters().received(), "nothing read while stalled: " + lane.report());
        // The verdict timeout frees the stranded ones, reading resumes, the late ones are delivered.
        lane.awaitAllResolved(VERDICT_TIMEOUT.plusSeconds(4));
        KernelWait.until(() -> lane.queued().orElse(-1) == 0, Duration.ofSeconds(5), lane::report);
        QueueCounters c = lane.counters();
        assertEquals(limit, c.defaultVerdicts(DefaultVerdictCause.TIMEOUT), c.toString());
        assertEquals(limit, c.totalDefaultVerdicts(), c.toString());
        lane.assertFates(t -> t.startsWith("d") ? Expect.TIMEOUT : Expect.USER);
        lane.assertSinkMatchesVerdicts();
        lane.stop();
        lane.assertExactlyOnce();
    }

    // ---------------------------------------------------------------------------------------
    // Must-have (2): onErrorContinue.

    /**
     * A map that throws for one packet in ten, in the safe form: the library's own resume path
     * gives each failed packet the default verdict (HANDLER_ERROR) at once and the pipeline goes
     * on; the others arrive; nothing waits for the timeout.
     */
    @Test
    void aThrowingMapInTheSafeFormResolvesTheFailedPacketsAtOnce() throws Exception {
        Lane lane = lane("map throws 1 in 10, safe form");
        lane.start(() -> lane.receiver.receive(packets -> packets
                        .map(OperatorTableKernelTest::failOnX)
                        .doOnNext(lane::accept))
                .subscribe());
        lane.send(texts(2000, i -> i % 10 == 0 ? "x" : "k"), AHEAD);
        lane.awaitAllResolved(Duration.ofSeconds(10));
        KernelWait.until(() -> lane.queued().orElse(-1) == 0, Duration.ofSeconds(5), lane::report);
        QueueCounters c = lane.counters();
        assertEquals(200, c.defaultVerdicts(DefaultVerdictCause.HANDLER_ERROR), c.toString());
        assertEquals(0, c.defaultVerdicts(DefaultVerdictCause.TIMEOUT), c.toString());
        lane.assertFates(t -> t.startsWith("x") ? Expect.DEFAULT_AT_ONCE : Expect.USER);
        lane.ledger.assertCauses(Set.of(DefaultVerdictCause.HANDLER_ERROR));
        lane.assertSinkMatchesVerdicts();
        assertTrue(lane.isBound(), "the pipeline went on");
        lane.stop();
        lane.assertExactlyOnce();
    }

    /**
     * The same map with an {@code onErrorContinue((e, v) -> log)} of the user's own. Reactor's
     * onErrorContinue does not discard: the failed packet is stranded until the verdict timeout,
     * in the safe form too (the user's strategy is nearer the map than the library's and takes
     * precedence). Four lanes side by side: the own onErrorContinue in the safe form (100 of 1000
     * stranded), in the plain form over 10 240 packets (1024 stranded: reading stops at
     * maxInFlight and the stall warning fires, for that lane only), and the fix in both forms,
     * the verdict given in the consumer ({@code (e, v) -> ((Packet) v).drop()}), which resolves
     * them at once.
     */
    @Test
    @ExpectsStallWarning(required = true)
    void anOwnOnErrorContinueStrandsTheFailedPacketUntilTheTimeout() throws Exception {
        AtomicInteger logged = new AtomicInteger();
        Lane safe = lane("own onErrorContinue(log), safe form");
        safe.start(() -> safe.receiver.receive(packets -> packets
                        .map(OperatorTableKernelTest::failOnX)
                        .onErrorContinue((e, v) -> logged.incrementAndGet())
                        .doOnNext(safe::accept))
                .subscribe());
        Lane plain = lane("own onErrorContinue(log), plain form");
        plain.start(() -> plain.receiver.receive()
                .map(OperatorTableKernelTest::failOnX)
                .onErrorContinue((e, v) -> logged.incrementAndGet())
                .subscribe(plain::accept));
        Lane safeFixed = lane("own onErrorContinue(drop), safe form");
        safeFixed.start(() -> safeFixed.receiver.receive(packets -> packets
                        .map(OperatorTableKernelTest::failOnX)
                        .onErrorContinue((e, v) -> ((Packet) v).drop())
                        .doOnNext(safeFixed::accept))
                .subscribe());
        Lane plainFixed = lane("own onErrorContinue(drop), plain form");
        plainFixed.start(() -> plainFixed.receiver.receive()
                .map(OperatorTableKernelTest::failOnX)
                .onErrorContinue((e, v) -> ((Packet) v).drop())
                .subscribe(plainFixed::accept));
        int limit = plain.receiver.options().maxInFlight();
        IntFunction<String> oneInTen = i -> i % 10 == 0 ? "x" : "k";
        sendConcurrently(Map.of(
                safe, () -> safe.send(texts(1000, oneInTen), AHEAD),
                plain, () -> plain.send(texts(10 * limit, oneInTen), AHEAD),
                safeFixed, () -> safeFixed.send(texts(1000, oneInTen), AHEAD),
                plainFixed, () -> plainFixed.send(texts(1000, oneInTen), AHEAD)));
        // The fixed lanes are done at once; the others hold their failed packets.
        safeFixed.awaitAllResolved(Duration.ofSeconds(5));
        plainFixed.awaitAllResolved(Duration.ofSeconds(5));
        KernelWait.until(() -> plain.counters().unresolved() == limit && safe.counters().unresolved() == 100,
                Duration.ofSeconds(5), () -> "stranded: " + plain.report() + "; " + safe.report());
        KernelWait.until(() -> plain.receiver.backpressure().get(0).readingStalls() >= 1, Duration.ofSeconds(3),
                () -> "reading stalled at maxInFlight: " + plain.receiver.backpressure());
        assertEquals(0, plain.counters().defaultVerdicts(DefaultVerdictCause.TIMEOUT));
        // The kernel holds them, and the packets sent after the last one read (reading has stopped).
        assertEquals(limit + plain.sent.size() - plain.counters().received(), plain.queued().orElse(-1), plain.report());
        assertEquals(100, safe.queued().orElse(-1), "the kernel holds them");
        List<String> warnings = StallWarningGuard.warnings();
        assertEquals(1, warnings.size(), "one warning, for the lane at maxInFlight only: " + warnings);
        assertTrue(warnings.get(0).contains("queue " + plain.queue + ":"), warnings.get(0));
        safe.awaitAllResolved(VERDICT_TIMEOUT.plusSeconds(4));
        plain.awaitAllResolved(VERDICT_TIMEOUT.plusSeconds(4));
        for (Lane lane : List.of(safe, plain)) {
            lane.assertFates(t -> t.startsWith("x") ? Expect.TIMEOUT : Expect.USER);
            assertEquals(0, lane.counters().defaultVerdicts(DefaultVerdictCause.HANDLER_ERROR), lane.report());
        }
        for (Lane lane : List.of(safeFixed, plainFixed)) {
            lane.assertFates(t -> t.startsWith("x") ? Expect.USER_DROP_AT_ONCE : Expect.USER);
            assertEquals(0, lane.counters().totalDefaultVerdicts(), lane.report());
        }
        assertEquals(100 + limit, logged.get(), "the user's consumer saw each failure");
        for (Lane lane : lanes) {
            KernelWait.until(() -> lane.queued().orElse(-1) == 0, Duration.ofSeconds(5), lane::report);
            lane.assertSinkMatchesVerdicts();
            lane.stop();
            lane.assertExactlyOnce();
        }
    }

    // ---------------------------------------------------------------------------------------
    // Must-have (3): groupBy over four flows; and abandoned groups.

    /** groupBy over 4 flows (4 source ports), each group consumed: every packet delivered, both forms. */
    @Test
    void groupByOverFourFlowsDeliversEveryPacket() throws Exception {
        Lane plain = lane("groupBy(4 flows), plain form");
        plain.start(() -> plain.receiver.receive()
                .groupBy(OperatorTableKernelTest::sourcePort)
                .flatMap(g -> g)
                .subscribe(plain::accept));
        Lane safe = lane("groupBy(4 flows), safe form");
        safe.start(() -> safe.receiver.receive(packets -> packets
                        .groupBy(OperatorTableKernelTest::sourcePort)
                        .flatMap(g -> g.doOnNext(safe::accept)))
                .subscribe());
        plain.openFlows(4);
        safe.openFlows(4);
        sendConcurrently(Map.of(plain, () -> plain.sendFlows(4, 500, AHEAD), safe, () -> safe.sendFlows(4, 500, AHEAD)));
        for (Lane lane : List.of(plain, safe)) {
            lane.awaitAllResolved(Duration.ofSeconds(10));
            assertEquals(2000, lane.counters().received(), lane.report());
            assertEquals(4, lane.flowsSeen(), "four flows, four groups: " + lane.report());
            lane.assertFates(t -> Expect.USER);
            KernelWait.until(() -> lane.queued().orElse(-1) == 0, Duration.ofSeconds(5), lane::report);
            lane.assertNoKernelDrops();
            lane.assertSinkMatchesVerdicts();
            lane.stop();
            lane.assertExactlyOnce();
        }
    }

    /**
     * A group the downstream never subscribes to ({@code flatMap(g -> g.key() == D ? Flux.empty() : g)}),
     * both forms. Reactor's groupBy keeps an unsubscribed group's elements in the group's queue
     * without discarding them, and never replenishes the demand they used: so (1) its packets are
     * stranded until the verdict timeout, and (2) once 256 of them (groupBy's prefetch) are held,
     * the receiver has no demand left and stops reading, for good and for every flow: the kernel
     * holds the unread packets and drops what exceeds its max-length; the verdict timeout frees
     * the stranded packets but not the demand. No in-flight stall (fewer than maxInFlight packets
     * are unresolved), but once nothing is unresolved and nothing is requested while the kernel
     * holds packets, the demand-stall warning fires (after 5 s by default, 1 s here) and names
     * groupBy. (3) dispose() does not reach the receiver: groupBy cancels its
     * source only when every group is done, and the abandoned one never is, so the queue stays
     * bound after dispose(). The test ends the subscription through the source's own Subscription.
     */
    @Test
    @ExpectsStallWarning(required = true)
    void anAbandonedGroupStrandsItsPacketsThenStopsReadingForGood() throws Exception {
        AtomicReference<Subscription> plainSource = new AtomicReference<>();
        AtomicReference<Subscription> safeSource = new AtomicReference<>();
        demandStallAfter = Duration.ofSeconds(1);
        Lane plain = lane("groupBy, abandoned group, plain form");
        plain.start(() -> plain.receiver.receive()
                .doOnSubscribe(plainSource::set)
                .transform(plain::tap)
                .groupBy(OperatorTableKernelTest::sourcePort)
                .flatMap(g -> g.key() == plain.flowPort(3) ? Flux.<Packet>empty() : g)
                .subscribe(plain::accept));
        Lane safe = lane("groupBy, abandoned group, safe form");
        demandStallAfter = null;
        safe.start(() -> safe.receiver.receive(packets -> packets
                        .doOnSubscribe(safeSource::set)
                        .transform(safe::tap)
                        .groupBy(OperatorTableKernelTest::sourcePort)
                        .flatMap(g -> g.key() == safe.flowPort(3) ? Flux.<Packet>empty() : g.doOnNext(safe::accept)))
                .subscribe());
        plain.openFlows(4);
        safe.openFlows(4);
        long start = System.nanoTime();
        // 300 per flow, round robin: flow 3 passes groupBy's prefetch (256) before the end.
        sendConcurrently(Map.of(plain, () -> plain.sendFlows(4, 300, 0), safe, () -> safe.sendFlows(4, 300, 0)));
        for (Lane lane : List.of(plain, safe)) {
            String d = "f3-";
            KernelWait.until(() -> lane.receiver.backpressure().get(0).outstandingDemand() == 0
                            && lane.counters().unresolved() == lane.readOf(d), Duration.ofSeconds(5),
                    () -> "demand exhausted, flow 3 held: " + lane.report());
        }
        Thread.sleep(500);
        for (Lane lane : List.of(plain, safe)) {
            QueueCounters c = lane.counters();
            long heldByGroup = lane.readOf("f3-");
            assertTrue(heldByGroup >= 256 && heldByGroup <= 258, "the abandoned group holds its prefetch: " + lane.report());
            assertEquals(heldByGroup, c.unresolved(), lane.report());
            assertTrue(c.received() < 1200, "reading stopped before the end: " + lane.report());
            assertEquals(0, lane.receiver.backpressure().get(0).outstandingDemand(), "no demand left");
            assertEquals(0, lane.receiver.backpressure().get(0).readingStalls(), "not a maxInFlight stall, and the "
                    + "stranded packets still count as held: no warning yet");
            lane.ledger.assertOnlyUserVerdicts();
        }
        // The verdict timeout frees the stranded packets, not the demand.
        for (Lane lane : List.of(plain, safe)) {
            lane.awaitReadResolved(VERDICT_TIMEOUT.plusSeconds(4));
            lane.assertFates(t -> t.startsWith("f3-") ? Expect.TIMEOUT : Expect.USER, /* unread allowed */ true);
        }
        long afterTimeout = (System.nanoTime() - start) / 1_000_000;
        List<String> more = texts("f0-more", 20);
        for (Lane lane : List.of(plain, safe)) {
            long before = lane.counters().received();
            lane.sendFrom(0, more);
            Thread.sleep(300);
            assertEquals(before, lane.counters().received(), "reading stays stopped after the timeout (at "
                    + afterTimeout + " ms): " + lane.report());
            QueueStats k = lane.kernel().orElseThrow();
            assertTrue(k.queued() > 0, "the kernel holds the unread packets: " + k);
            assertEquals(lane.sent.size(), lane.counters().received() + k.queued() + k.queueDropped(),
                    "every packet sent is read, held or dropped by the kernel: " + k + " " + lane.report());
        }
        // Nothing unresolved, nothing requested, packets in the kernel: the demand-stall warning.
        for (Lane lane : List.of(plain, safe)) {
            KernelWait.until(() -> lane.receiver.backpressure().get(0).readingStalls() == 1, Duration.ofSeconds(5),
                    () -> "the demand stall counted: " + lane.report());
        }
        List<String> warnings = StallWarningGuard.warnings();
        assertEquals(2, warnings.size(), warnings.toString());
        assertTrue(warnings.stream().allMatch(w -> w.contains("requested nothing") && w.contains("groupBy")),
                warnings.toString());
        // dispose() does not reach the receiver: the queue stays bound.
        long plainBefore = plain.counters().received();
        long safeBefore = safe.counters().received();
        plain.running.dispose();
        safe.running.dispose();
        Thread.sleep(300);
        assertTrue(plain.isBound() && safe.isBound(), "dispose() did not unbind: " + plain.report() + "; " + safe.report());
        System.out.println("after dispose(), still bound: the plain form's receiver read " + (plain.counters().received()
                - plainBefore) + " more packets (" + plain.counters().unresolved() + " unresolved), the safe form's "
                + (safe.counters().received() - safeBefore) + " (" + safe.counters().unresolved() + " unresolved)");
        plainSource.get().cancel();
        safeSource.get().cancel();
        for (Lane lane : List.of(plain, safe)) {
            KernelWait.until(() -> !lane.isBound(), Duration.ofSeconds(5), "unbound by the source's cancel");
            lane.assertExactlyOnce();
        }
    }

    /**
     * The fix for an unwanted group: consume it. In the safe form {@code g.filter(p -> false)}
     * (its packets get the default verdict at once, DISCARD); in the plain form give the verdict,
     * {@code g.doOnNext(Packet::drop)}. Every packet is resolved at once and reading goes on.
     */
    @Test
    void anUnwantedGroupConsumedIsResolvedAtOnce() throws Exception {
        Lane plain = lane("groupBy, unwanted group dropped, plain form");
        plain.start(() -> plain.receiver.receive()
                .groupBy(OperatorTableKernelTest::sourcePort)
                .flatMap(g -> g.key() == plain.flowPort(3) ? g.doOnNext(Packet::drop).then(Mono.<Packet>empty()) : g)
                .subscribe(plain::accept));
        Lane safe = lane("groupBy, unwanted group filtered, safe form");
        safe.start(() -> safe.receiver.receive(packets -> packets
                        .groupBy(OperatorTableKernelTest::sourcePort)
                        .flatMap(g -> g.key() == safe.flowPort(3) ? g.filter(p -> false) : g.doOnNext(safe::accept)))
                .subscribe());
        plain.openFlows(4);
        safe.openFlows(4);
        sendConcurrently(Map.of(plain, () -> plain.sendFlows(4, 500, AHEAD), safe, () -> safe.sendFlows(4, 500, AHEAD)));
        for (Lane lane : List.of(plain, safe)) {
            lane.awaitAllResolved(Duration.ofSeconds(10));
            assertEquals(2000, lane.counters().received(), lane.report());
            lane.assertFates(t -> !t.startsWith("f3-") ? Expect.USER
                    : lane == plain ? Expect.USER_DROP_AT_ONCE : Expect.DEFAULT_AT_ONCE);
            KernelWait.until(() -> lane.queued().orElse(-1) == 0, Duration.ofSeconds(5), lane::report);
            lane.assertSinkMatchesVerdicts();
            lane.stop();
            lane.assertExactlyOnce();
        }
        safe.ledger.assertCauses(Set.of(DefaultVerdictCause.DISCARD));
    }

    // ---------------------------------------------------------------------------------------
    // Must-have (4) and the other rows that deliver every packet.

    /** A pipeline in both forms, each consuming every packet it is given with {@code accept}. */
    record Both(String name, Function<Lane, Disposable> plain, Function<Lane, Disposable> safe) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Both> everyPacketPipelines() {
        return Stream.of(
                new Both("bufferTimeout(64, 10 ms) + publishOn",
                        l -> l.receiver.receive().bufferTimeout(64, Duration.ofMillis(10))
                                .publishOn(Schedulers.parallel())
                                .subscribe(list -> list.forEach(l::accept)),
                        l -> l.receiver.receive(packets -> packets.bufferTimeout(64, Duration.ofMillis(10))
                                .publishOn(Schedulers.parallel())
                                .doOnNext(list -> list.forEach(l::accept))).subscribe()),
                new Both("publishOn",
                        l -> l.receiver.receive().publishOn(Schedulers.parallel()).subscribe(l::accept),
                        l -> l.receiver.receive(packets -> packets.publishOn(Schedulers.parallel())
                                .doOnNext(l::accept)).subscribe()),
                new Both("parallel().runOn()",
                        l -> l.receiver.receive().parallel().runOn(Schedulers.parallel()).subscribe(l::accept),
                        l -> l.receiver.receive(packets -> packets.parallel().runOn(Schedulers.parallel())
                                .doOnNext(l::accept).sequential()).subscribe()),
                new Both("flatMap(async inner)",
                        l -> l.receiver.receive().flatMap(p -> Mono.just(p).publishOn(Schedulers.parallel()))
                                .subscribe(l::accept),
                        l -> l.receiver.receive(packets -> packets
                                .flatMap(p -> Mono.just(p).publishOn(Schedulers.parallel()))
                                .doOnNext(l::accept)).subscribe()),
                new Both("concatMap(async inner)",
                        l -> l.receiver.receive().concatMap(p -> Mono.just(p).publishOn(Schedulers.parallel()))
                                .subscribe(l::accept),
                        l -> l.receiver.receive(packets -> packets
                                .concatMap(p -> Mono.just(p).publishOn(Schedulers.parallel()))
                                .doOnNext(l::accept)).subscribe()),
                new Both("flatMapSequential(async inner)",
                        l -> l.receiver.receive().flatMapSequential(p -> Mono.just(p).publishOn(Schedulers.parallel()))
                                .subscribe(l::accept),
                        l -> l.receiver.receive(packets -> packets
                                .flatMapSequential(p -> Mono.just(p).publishOn(Schedulers.parallel()))
                                .doOnNext(l::accept)).subscribe()),
                new Both("window(10 ms) + flatMap",
                        l -> l.receiver.receive().window(Duration.ofMillis(10)).flatMap(w -> w).subscribe(l::accept),
                        l -> l.receiver.receive(packets -> packets.window(Duration.ofMillis(10))
                                .flatMap(w -> w.doOnNext(l::accept))).subscribe()));
    }

    /**
     * 2000 packets through each pipeline, in both forms side by side: every one delivered and
     * accepted by the user, none by default, the kernel queue back to 0 while subscribed.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("everyPacketPipelines")
    void deliversEveryPacket(Both pipeline) throws Exception {
        Lane plain = lane(pipeline.name() + ", plain form");
        plain.start(() -> pipeline.plain().apply(plain));
        Lane safe = lane(pipeline.name() + ", safe form");
        safe.start(() -> pipeline.safe().apply(safe));
        List<String> texts = texts(2000, i -> "k");
        sendConcurrently(Map.of(plain, () -> plain.send(texts, AHEAD), safe, () -> safe.send(texts, AHEAD)));
        for (Lane lane : List.of(plain, safe)) {
            lane.awaitAllResolved(Duration.ofSeconds(10));
            assertEquals(2000, lane.counters().received(), lane.report());
            lane.assertFates(t -> Expect.USER);
            KernelWait.until(() -> lane.queued().orElse(-1) == 0, Duration.ofSeconds(5), lane::report);
            lane.assertNoKernelDrops();
            lane.assertSinkMatchesVerdicts();
            lane.stop();
            lane.assertExactlyOnce();
        }
    }

    /**
     * Cancelling (dispose) while packets sit in an operator's queue, both forms: every packet the
     * receiver handed out and the user did not decide gets the default verdict at once (CANCEL,
     * from the receiver as it unbinds; the packets still in the socket CLOSE); none waits for the
     * timeout. A user verdict that loses the race against the cancel (a worker still running
     * onNext) throws VerdictAlreadyGivenException and sends nothing: counted, not an error.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("everyPacketPipelines")
    void cancelWhilePacketsAreInFlightResolvesThemAtOnce(Both pipeline) throws Exception {
        Lane plain = lane(pipeline.name() + ", plain form, cancelled");
        Lane safe = lane(pipeline.name() + ", safe form, cancelled");
        for (Lane lane : List.of(plain, safe)) {
            lane.slowAccept = true; // 1 ms per verdict: packets queue up in the operators
            lane.start(() -> (lane == plain ? pipeline.plain() : pipeline.safe()).apply(lane));
        }
        List<String> texts = texts(400, i -> "k");
        sendConcurrently(Map.of(plain, () -> plain.send(texts, 0), safe, () -> safe.send(texts, 0)));
        // Each lane is cancelled as soon as the user has decided 30 of its packets.
        Map<Lane, Long> cancelledAt = new ConcurrentHashMap<>();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (cancelledAt.size() < 2 && System.nanoTime() < deadline) {
            for (Lane lane : List.of(plain, safe)) {
                if (!cancelledAt.containsKey(lane) && lane.ledger.userVerdicts() >= 30) {
                    cancelledAt.put(lane, System.nanoTime());
                    lane.running.dispose();
                }
            }
            LockSupport.parkNanos(200_000);
        }
        assertEquals(2, cancelledAt.size(), "30 verdicts each within 5 s: " + plain.report() + "; " + safe.report());
        for (Lane lane : List.of(plain, safe)) {
            KernelWait.until(() -> !lane.isBound(), Duration.ofSeconds(5), () -> "unbound: " + lane.report());
            assertEquals(0, lane.counters().unresolved(), lane.report());
            assertEquals(0, lane.counters().defaultVerdicts(DefaultVerdictCause.TIMEOUT), lane.report());
            assertTrue(lane.counters().totalDefaultVerdicts() > 0, "some were in flight: " + lane.report());
            // Every default verdict came with the cancel: within AT_ONCE of it.
            long at = cancelledAt.get(lane);
            List<String> late = lane.ledger.firstFates().values().stream()
                    .filter(f -> f.cause() != null && (f.atNanos() - at > AT_ONCE.toNanos() || f.atNanos() < at))
                    .map(f -> f.text() + " " + f.cause() + " " + (f.atNanos() - at) / 1_000_000 + " ms after the cancel")
                    .collect(Collectors.toList());
            assertEquals(List.of(), late, lane.report());
            lane.assertFates(t -> Expect.USER_OR_DEFAULT, true);
            // HANDLER_ERROR too, seen about once in five runs under load and not yet traced: most likely
            // the VerdictAlreadyGivenException that a verdict beaten by the cancel throws out of the
            // user's step, met by a packet still in hand. Still one verdict per packet, at once.
            lane.ledger.assertCauses(Set.of(DefaultVerdictCause.CANCEL, DefaultVerdictCause.CLOSE,
                    DefaultVerdictCause.DISCARD, DefaultVerdictCause.HANDLER_ERROR));
            lane.assertRefusedOnlyBy(DefaultVerdictCause.CANCEL);
            lane.assertSinkMatchesVerdicts();
            lane.assertExactlyOnce();
        }
    }

    // ---------------------------------------------------------------------------------------
    // Rows that end the subscription: take, takeUntil, timeout; and retry, which starts another.

    /**
     * take(100), both forms, with a burst of 300: the first 100 are delivered and accepted by the
     * user, then take cancels and the receiver unbinds: the packets it had read and not delivered
     * get the default verdict at once (CANCEL), those still in the socket too (CLOSE), and the
     * kernel drops the rest when the queue unbinds (no verdict of ours: the rule has no queue to
     * go to). Two more lanes: take(100) followed by an asynchronous stage that gives the verdict
     * (publishOn): take's cancel reaches the receiver while the packets it let through are still
     * in publishOn's queue, so they get the default verdict (CANCEL) before the user sees them and
     * the user's accept throws VerdictAlreadyGivenException; the fix, take after the stage that
     * gives the verdict, delivers all 100.
     */
    @Test
    void takeEndsTheSubscriptionAndResolvesWhatItDidNotDeliver() throws Exception {
        Lane plain = lane("take(100), plain form");
        plain.start(() -> plain.receiver.receive().take(100).subscribe(plain::accept));
        Lane safe = lane("take(100), safe form");
        safe.start(() -> safe.receiver.receive(packets -> packets.take(100).doOnNext(safe::accept)).subscribe());
        Lane async = lane("take(100) then publishOn, verdict after it");
        async.slowAccept = true;
        async.start(() -> async.receiver.receive().take(100).publishOn(Schedulers.parallel())
                .subscribe(async::tryAccept));
        Lane fixed = lane("publishOn, verdict, then take(100)");
        fixed.start(() -> fixed.receiver.receive().publishOn(Schedulers.parallel())
                .doOnNext(fixed::accept).take(100).subscribe());
        List<String> texts = texts(300, i -> "k");
        sendConcurrently(Map.of(plain, () -> plain.send(texts, 0), safe, () -> safe.send(texts, 0),
                async, () -> async.send(texts, 0), fixed, () -> fixed.send(texts, 0)));
        Set<String> first100 = Set.copyOf(texts.subList(0, 100));
        for (Lane lane : lanes) {
            KernelWait.until(() -> !lane.isBound(), Duration.ofSeconds(5), () -> "take completed and unbound: " + lane.report());
            assertEquals(0, lane.counters().unresolved(), lane.report());
            assertEquals(0, lane.counters().defaultVerdicts(DefaultVerdictCause.TIMEOUT), lane.report());
            lane.assertFates(t -> !first100.contains(t) ? Expect.DEFAULT_AT_ONCE
                    : lane == async ? Expect.USER_OR_DEFAULT_AT_ONCE : Expect.USER, true);
            lane.ledger.assertCauses(Set.of(DefaultVerdictCause.CANCEL, DefaultVerdictCause.CLOSE,
                    DefaultVerdictCause.DISCARD));
            lane.assertSinkMatchesVerdicts();
            lane.assertExactlyOnce();
        }
        // the async lane: every one of the first 100 is the user's or CANCEL, and the user's
        // verdicts for the CANCEL ones were refused.
        long cancelledOfFirst = first100.stream().filter(t -> async.ledger.fate(t)
                .map(f -> f.cause() == DefaultVerdictCause.CANCEL).orElse(false)).count();
        long userOfFirst = first100.stream().filter(t -> async.ledger.fate(t)
                .map(f -> f.cause() == null).orElse(false)).count();
        assertEquals(100, cancelledOfFirst + userOfFirst, async.report());
        assertTrue(cancelledOfFirst >= 1, "take's cancel resolved packets publishOn still held: " + async.report());
        async.assertRefusedOnlyBy(DefaultVerdictCause.CANCEL);
        KernelWait.until(() -> async.refused.size() == cancelledOfFirst, Duration.ofSeconds(5),
                () -> "the user's verdicts for them were refused: " + async.report());
        System.out.println("take then publishOn: " + cancelledOfFirst + " of the first 100 got CANCEL before the user's"
                + " verdict, whose accept() then threw VerdictAlreadyGivenException");
    }

    /**
     * takeUntil(predicate) and takeUntilOther(a 600 ms timer), both forms: like take, the packets
     * up to the end are delivered, the subscription ends and unbinds, what was read and not
     * delivered gets the default verdict at once. The timer's cancel comes from another thread and
     * can race with the verdict of the packet being delivered at that moment: if the cancel wins
     * it gets CANCEL and the user's accept throws (counted; each packet still gets one verdict).
     */
    @Test
    void takeUntilEndsTheSubscriptionAndResolvesWhatItDidNotDeliver() throws Exception {
        Lane plain = lane("takeUntil(k-49), plain form");
        plain.start(() -> plain.receiver.receive().takeUntil(p -> text(p).equals("k-49")).subscribe(plain::accept));
        Lane safe = lane("takeUntil(k-49), safe form");
        safe.start(() -> safe.receiver.receive(packets -> packets.takeUntil(p -> text(p).equals("k-49"))
                .doOnNext(safe::accept)).subscribe());
        // The timers start at the subscription; the sending starts after the last lane is bound.
        Lane plainTimer = lane("takeUntilOther(a 600 ms timer), plain form");
        plainTimer.start(() -> plainTimer.receiver.receive().takeUntilOther(Mono.delay(Duration.ofMillis(600)))
                .subscribe(plainTimer::tryAccept));
        Lane safeTimer = lane("takeUntilOther(a 600 ms timer), safe form");
        safeTimer.start(() -> safeTimer.receiver.receive(packets -> packets
                .takeUntilOther(Mono.delay(Duration.ofMillis(600))).doOnNext(safeTimer::tryAccept)).subscribe());
        List<String> texts = texts(600, i -> "k");
        List<String> paced = texts(1200, i -> "k");
        sendConcurrently(Map.of(plain, () -> plain.send(texts, 0), safe, () -> safe.send(texts, 0),
                plainTimer, () -> plainTimer.sendEvery(paced, 1000), safeTimer, () -> safeTimer.sendEvery(paced, 1000)));
        Set<String> first50 = Set.copyOf(texts.subList(0, 50));
        for (Lane lane : lanes) {
            KernelWait.until(() -> !lane.isBound(), Duration.ofSeconds(5), () -> "ended and unbound: " + lane.report());
            assertEquals(0, lane.counters().unresolved(), lane.report());
            assertEquals(0, lane.counters().defaultVerdicts(DefaultVerdictCause.TIMEOUT), lane.report());
            lane.ledger.assertCauses(Set.of(DefaultVerdictCause.CANCEL, DefaultVerdictCause.CLOSE));
            lane.assertSinkMatchesVerdicts();
            lane.assertExactlyOnce();
        }
        for (Lane lane : List.of(plain, safe)) {
            lane.assertFates(t -> first50.contains(t) ? Expect.USER : Expect.DEFAULT_AT_ONCE, true);
            assertEquals(Map.of(), lane.refused, lane.report());
        }
        for (Lane lane : List.of(plainTimer, safeTimer)) {
            lane.assertFates(t -> Expect.USER_OR_DEFAULT_AT_ONCE, true);
            assertTrue(lane.ledger.userVerdicts() >= 100, "delivered until the timer: " + lane.report());
            assertTrue(lane.sent.size() - lane.ledger.size() > 0, "the rest, sent after the unbind, never came: "
                    + lane.report());
            lane.assertRefusedOnlyBy(DefaultVerdictCause.CANCEL);
        }
    }

    /**
     * timeout(300 ms), both forms, and timeout(300 ms, Flux.empty()): 50 packets, then silence.
     * Each packet is delivered and accepted; after 300 ms without one the subscription ends (an
     * error, or completion with the fallback) and the queue unbinds; nothing is left to resolve.
     * The safe form's resume path does not apply (the TimeoutException is not an element's), so an
     * onErrorResume in the safe form does see it. The packets sent after that get no verdict of
     * ours: the kernel drops them (no queue bound).
     */
    @Test
    void timeoutEndsTheSubscriptionWhenTrafficStops() throws Exception {
        AtomicReference<Throwable> plainError = new AtomicReference<>();
        AtomicReference<Throwable> safeError = new AtomicReference<>();
        AtomicInteger completed = new AtomicInteger();
        // The first timeout counts from the subscription: each lane gets its packets at once.
        List<String> texts = texts(50, i -> "k");
        Lane plain = lane("timeout(300 ms), plain form");
        plain.start(() -> plain.receiver.receive().timeout(Duration.ofMillis(300))
                .subscribe(plain::accept, plainError::set));
        plain.send(texts, 0);
        Lane safe = lane("timeout(300 ms), safe form");
        safe.start(() -> safe.receiver.receive(packets -> packets.timeout(Duration.ofMillis(300))
                .doOnNext(safe::accept)).subscribe(p -> { }, safeError::set));
        safe.send(texts, 0);
        Lane fallback = lane("timeout(300 ms, Flux.empty()), plain form");
        fallback.start(() -> fallback.receiver.receive().timeout(Duration.ofMillis(300), Flux.empty())
                .subscribe(fallback::accept, e -> { }, completed::incrementAndGet));
        fallback.send(texts, 0);
        AtomicInteger resumed = new AtomicInteger();
        Lane safeResume = lane("timeout(300 ms).onErrorResume(...), safe form");
        safeResume.start(() -> safeResume.receiver.receive(packets -> packets.timeout(Duration.ofMillis(300))
                .doOnNext(safeResume::accept)
                .onErrorResume(TimeoutException.class, e -> {
                    resumed.incrementAndGet();
                    return Flux.empty();
                })).subscribe(p -> { }, e -> { }, completed::incrementAndGet));
        safeResume.send(texts, 0);
        for (Lane lane : lanes) {
            KernelWait.until(() -> !lane.isBound(), Duration.ofSeconds(5), () -> "unbound after 300 ms idle: " + lane.report());
            lane.assertFates(t -> Expect.USER);
            List<String> after = texts("after-k", 20);
            lane.send(after, 0);
        }
        Thread.sleep(200);
        assertInstanceOf(TimeoutException.class, plainError.get());
        assertInstanceOf(TimeoutException.class, safeError.get());
        assertEquals(2, completed.get(), "the fallback lane and the safe form's onErrorResume lane completed");
        assertEquals(1, resumed.get(), "in the safe form, an error that is not an element's reaches onErrorResume");
        for (Lane lane : lanes) {
            assertEquals(50, lane.ledger.size(), "the later packets never reached the program: " + lane.report());
            assertEquals(0, lane.counters().totalDefaultVerdicts(), lane.report());
            lane.assertSinkMatchesVerdicts();
            lane.assertExactlyOnce();
        }
    }

    /**
     * retry(5) after a map that throws for 4 packets of 400 sent over ~400 ms (default verdict
     * ACCEPT in this test, so that the sink shows every packet that got any verdict). Plain form:
     * each error ends the subscription, the failed packet gets the default verdict at once
     * (CANCEL, as the receiver unbinds), and retry subscribes again, binding the queue anew; the
     * packets that reach the rule between the unbind and the bind are dropped by the kernel with
     * no verdict of ours (counted here as sent but never read; --queue-bypass in the rule would
     * accept them instead). Safe form: the library resumes on the element error itself, so retry
     * never fires: one subscription, the failed packets HANDLER_ERROR at once, nothing lost.
     */
    @Test
    void retryRebindsTheQueueAndPacketsInTheGapAreDroppedByTheKernel() throws Exception {
        AtomicInteger plainSubscriptions = new AtomicInteger();
        AtomicInteger safeSubscriptions = new AtomicInteger();
        UnaryOperator<ReceiverOptions> accept = o -> o.defaultVerdict(Verdict.accept());
        Lane plain = lane("map throws, retry(5), plain form", accept);
        plain.start(() -> plain.receiver.receive()
                .doOnSubscribe(s -> plainSubscriptions.incrementAndGet())
                .map(OperatorTableKernelTest::failOnX)
                .retry(5)
                .subscribe(plain::accept));
        Lane safe = lane("map throws, retry(5), safe form", accept);
        safe.start(() -> safe.receiver.receive(packets -> packets
                        .doOnSubscribe(s -> safeSubscriptions.incrementAndGet())
                        .map(OperatorTableKernelTest::failOnX)
                        .doOnNext(safe::accept))
                .retry(5)
                .subscribe());
        List<String> texts = texts(400, i -> i % 100 == 50 ? "x" : "k");
        sendConcurrently(Map.of(plain, () -> plain.sendEvery(texts, 1000), safe, () -> safe.sendEvery(texts, 1000, AHEAD)));
        for (Lane lane : lanes) {
            KernelWait.until(() -> lane.isBound() && lane.counters().unresolved() == 0, Duration.ofSeconds(5), lane::report);
            KernelWait.until(() -> lane.queued().orElse(-1) == 0, Duration.ofSeconds(5), lane::report);
            assertEquals(0, lane.ledger.count(DefaultVerdictCause.TIMEOUT), lane.report());
            lane.assertFates(t -> t.startsWith("x") ? Expect.DEFAULT_AT_ONCE : Expect.USER_OR_DEFAULT_AT_ONCE, true);
            lane.assertSinkMatchesVerdicts();
        }
        assertEquals(5, plainSubscriptions.get(), "4 errors, 4 new bindings");
        for (String x : List.copyOf(plain.sent)) {
            if (x.startsWith("x")) {
                assertEquals(Optional.of(DefaultVerdictCause.CANCEL), plain.ledger.fate(x).map(Ledger.Fate::cause),
                        "the failed packet got CANCEL as the error cancelled the source: " + x);
            }
        }
        long lostInGaps = plain.sent.size() - plain.ledger.size();
        List<Integer> lost = plain.sent.stream().filter(t -> plain.ledger.fate(t).isEmpty())
                .map(OperatorTableKernelTest::number).sorted().collect(Collectors.toList());
        System.out.println("retry, plain form: " + lostInGaps + " of " + plain.sent.size()
                + " packets reached the rule while the queue was unbound and were dropped by the kernel: "
                + ranges(lost) + " (x at 50, 150, 250, 350; one packet a millisecond)");
        assertEquals(plain.sent.size() - lostInGaps, plain.sink.total(), "the sink got every packet with a verdict");
        assertEquals(1, safeSubscriptions.get(), "retry never fired");
        assertEquals(4, safe.ledger.count(DefaultVerdictCause.HANDLER_ERROR), safe.report());
        assertEquals(4, safe.ledger.firstFates().values().stream().filter(f -> f.cause() != null).count(), safe.report());
        assertEquals(400, safe.ledger.size(), "none lost");
        assertEquals(400, safe.sink.total(), safe.report());
        for (Lane lane : lanes) {
            lane.stop();
            lane.assertExactlyOnce(false);
        }
    }

    // ---------------------------------------------------------------------------------------
    // share / publish, and Flux.merge of two receivers.

    /**
     * share() (plain form) and publish(Function) (safe form) with two subscribers that both call
     * accept: every packet reaches both, exactly one verdict is sent (the first subscriber's), the
     * second throws VerdictAlreadyGivenException and sends nothing. When the first cancels, the
     * second gets the packets alone; when both have, the queue unbinds.
     */
    @Test
    void sharedPacketsGetExactlyOneVerdict() throws Exception {
        Lane plain = lane("share(), two subscribers, plain form");
        Flux<Packet> shared = plain.receiver.receive().share();
        Disposable first = shared.subscribe(p -> plain.tryAccept("first", p));
        Disposable second = shared.subscribe(p -> plain.tryAccept("second", p));
        plain.running = () -> {
            first.dispose();
            second.dispose();
        };
        plain.awaitBound();
        Lane safe = lane("publish(shared -> merge(2 subscribers)), safe form");
        safe.start(() -> safe.receiver.receive(packets -> packets.publish(sh -> Flux.merge(
                        sh.doOnNext(p -> safe.tryAccept("first", p)),
                        sh.doOnNext(p -> safe.tryAccept("second", p)))))
                .subscribe());
        List<String> texts = texts(300, i -> "k");
        sendConcurrently(Map.of(plain, () -> plain.send(texts, AHEAD), safe, () -> safe.send(texts, AHEAD)));
        for (Lane lane : lanes) {
            lane.awaitAllResolved(Duration.ofSeconds(5));
            KernelWait.until(() -> lane.refusedBy.getOrDefault("second", 0) == 300, Duration.ofSeconds(5), lane::report);
            lane.assertFates(t -> Expect.USER);
            assertEquals(300, lane.acceptedBy.getOrDefault("first", 0), lane.report());
            assertEquals(0, lane.refusedBy.getOrDefault("first", 0), lane.report());
            assertEquals(0, lane.acceptedBy.getOrDefault("second", 0), lane.report());
            assertTrue(lane.refused.values().stream().allMatch(Optional::isEmpty),
                    "refused because the first subscriber's verdict was there, not a default one: " + lane.report());
            lane.assertSinkMatchesVerdicts();
        }
        // The first subscriber leaves: the second one's verdicts now count.
        first.dispose();
        List<String> more = texts("solo-k", 50);
        plain.send(more, 0);
        KernelWait.until(() -> plain.acceptedBy.getOrDefault("second", 0) == 50, Duration.ofSeconds(5), plain::report);
        second.dispose();
        KernelWait.until(() -> !plain.isBound(), Duration.ofSeconds(5), "unbound when the last subscriber left");
        plain.assertFates(t -> Expect.USER);
        plain.assertSinkMatchesVerdicts();
        safe.stop();
        for (Lane lane : lanes) {
            lane.assertExactlyOnce();
        }
    }

    /**
     * Flux.merge of two receivers (two queues): in the plain form every packet of both is
     * delivered; in the safe form of the first receiver over the merge ({@code r1.receive(p ->
     * Flux.merge(p, r2.receive()).filter(...))}) what the filter drops from either queue gets the
     * default verdict at once, since the discard hook covers every packet of the pipeline. One
     * dispose unbinds both queues.
     */
    @Test
    void mergeOfTwoReceivers() throws Exception {
        Lane a = lane("merge, plain form, queue A");
        Lane b = lane("merge, plain form, queue B");
        Disposable plain = Flux.merge(a.receiver.receive(), b.receiver.receive())
                .subscribe(p -> (p.queueNumber() == a.queue ? a : b).accept(p));
        a.running = plain;
        a.awaitBound();
        b.awaitBound();
        Lane c = lane("merge + filter, safe form, queue C");
        Lane d = lane("merge + filter, safe form, queue D");
        Disposable safe = c.receiver.receive(packets -> Flux.merge(packets, d.receiver.receive())
                        .filter(p -> text(p).startsWith("k"))
                        .doOnNext(p -> (p.queueNumber() == c.queue ? c : d).accept(p)))
                .subscribe();
        c.running = safe;
        c.awaitBound();
        d.awaitBound();
        List<String> all = texts(1000, i -> "k");
        List<String> half = texts(1000, i -> i % 2 == 0 ? "k" : "d");
        sendConcurrently(Map.of(a, () -> a.send(all, AHEAD), b, () -> b.send(all, AHEAD),
                c, () -> c.send(half, AHEAD), d, () -> d.send(half, AHEAD)));
        for (Lane lane : lanes) {
            lane.awaitAllResolved(Duration.ofSeconds(10));
            assertEquals(1000, lane.counters().received(), lane.report());
            lane.assertFates(t -> t.startsWith("k") ? Expect.USER : Expect.DEFAULT_AT_ONCE);
            KernelWait.until(() -> lane.queued().orElse(-1) == 0, Duration.ofSeconds(5), lane::report);
            lane.assertSinkMatchesVerdicts();
        }
        d.ledger.assertCauses(Set.of(DefaultVerdictCause.DISCARD));
        assertEquals(500, d.ledger.count(DefaultVerdictCause.DISCARD), d.report());
        plain.dispose();
        safe.dispose();
        for (Lane lane : lanes) {
            KernelWait.until(() -> !lane.isBound(), Duration.ofSeconds(5), () -> "one dispose unbinds both: " + lane.report());
            lane.assertExactlyOnce();
        }
    }

    // ---------------------------------------------------------------------------------------
    // What strands packets, and what does not: many lanes side by side, one 5-second wait.

    /**
     * One lane: a pipeline and what to send it. {@code stranded} says which packets must wait for
     * the verdict timeout (null when it depends on timing, as for sample and switchMap, where it
     * is every packet the user did not get); {@code atOnce} cases must resolve every packet at
     * once instead.
     */
    record Case(String name, Function<Lane, Disposable> pipeline, int count, long paceMicros,
                Predicate<String> stranded) {
        static Case of(String name, Function<Lane, Disposable> pipeline, int count, long paceMicros,
                       Predicate<String> stranded) {
            return new Case(name, pipeline, count, paceMicros, stranded);
        }

        /** Starts each case on a lane of its own and sends it its texts, all side by side. */
        static Map<Lane, Case> run(List<Case> cases, Function<String, Lane> newLane, IntFunction<String> kinds)
                throws Exception {
            Map<Lane, Case> byLane = new LinkedHashMap<>();
            for (Case c : cases) {
                Lane lane = newLane.apply(c.name());
                lane.start(() -> c.pipeline().apply(lane));
                byLane.put(lane, c);
            }
            Map<Lane, Runnable> sends = new LinkedHashMap<>();
            byLane.forEach((lane, c) -> {
                List<String> texts = texts(c.count(), kinds);
                sends.put(lane, () -> {
                    if (c.paceMicros() > 0) {
                        lane.sendEvery(texts, c.paceMicros(), AHEAD);
                    } else {
                        lane.send(texts, AHEAD);
                    }
                });
            });
            sendConcurrently(sends);
            return byLane;
        }

        @Override
        public String toString() {
            return name;
        }
    }

    private static boolean discardMayRace(Case c) {
        return c.name().startsWith("switchMap") && c.name().endsWith("safe form");
    }

    private static Mono<Packet> failAsyncOnX(Packet p) {
        return Mono.delay(Duration.ofMillis(1))
                .then(text(p).startsWith("x") ? Mono.error(new IllegalStateException("lookup failed for " + text(p)))
                        : Mono.just(p));
    }

    private static boolean isX(String t) {
        return t.startsWith("x");
    }

    /**
     * Operators that drop a packet without Reactor's discard hook (or before the safe form can
     * see it): the packet is stranded, the kernel holds it, and only the verdict timeout gives it
     * the default verdict, at least 5 s after it arrived. Two buffer(64) lanes also show what
     * happens next: the partial buffer is emitted when more packets come, and the user's accept
     * of its timed-out packets throws VerdictAlreadyGivenException (cause TIMEOUT).
     */
    @Test
    void operatorsThatStrandUntilTheVerdictTimeout() throws Exception {
        IntFunction<String> xEveryTenth = i -> i % 10 == 0 ? "x" : "k";
        List<Case> cases = List.of(
                Case.of("filter, plain form", l -> l.receiver.receive().filter(p -> !text(p).startsWith("x"))
                        .subscribe(l::accept), 300, 0, OperatorTableKernelTest::isX),
                Case.of("skip(100), plain form", l -> l.receiver.receive().skip(100).subscribe(l::accept),
                        300, 0, t -> number(t) < 100),
                Case.of("distinct(n % 10), plain form", l -> l.receiver.receive().distinct(p -> number(text(p)) % 10)
                        .subscribe(l::accept), 300, 0, t -> number(t) >= 10),
                Case.of("sample(20 ms), plain form", l -> l.receiver.receive().sample(Duration.ofMillis(20))
                        .subscribe(l::accept), 300, 1000, null),
                Case.of("switchMap(5 ms inner), plain form", l -> l.receiver.receive()
                        .switchMap(p -> Mono.delay(Duration.ofMillis(5)).thenReturn(p))
                        .subscribe(l::accept), 300, 1000, null),
                Case.of("switchMap(5 ms inner), safe form", l -> l.receiver.receive(packets -> packets
                        .switchMap(p -> Mono.delay(Duration.ofMillis(5)).thenReturn(p))
                        .doOnNext(l::accept)).subscribe(), 300, 1000, null),
                Case.of("flatMap, async inner error, safe form", l -> l.receiver.receive(packets -> packets
                        .flatMap(OperatorTableKernelTest::failAsyncOnX)
                        .doOnNext(l::accept)).subscribe(), 300, 0, OperatorTableKernelTest::isX),
                Case.of("concatMap, async inner error, safe form", l -> l.receiver.receive(packets -> packets
                        .concatMap(OperatorTableKernelTest::failAsyncOnX)
                        .doOnNext(l::accept)).subscribe(), 300, 0, OperatorTableKernelTest::isX),
                Case.of("flatMapSequential, inner error, safe form", l -> l.receiver.receive(packets -> packets
                        .flatMapSequential(OperatorTableKernelTest::failAsyncOnX)
                        .doOnNext(l::accept)).subscribe(), 300, 0, OperatorTableKernelTest::isX),
                Case.of("window(10), take(3) of each, plain form", l -> l.receiver.receive().window(10)
                        .flatMap(w -> w.take(3)).subscribe(l::accept), 300, 0, t -> number(t) % 10 >= 3),
                Case.of("window(10), windows never subscribed, safe form", l -> l.receiver.receive(packets -> packets
                        .window(10).flatMap(w -> Flux.<Packet>empty())).subscribe(), 300, 0, t -> true),
                Case.of("buffer(64), quiet queue, plain form", l -> l.receiver.receive().buffer(64)
                        .subscribe(list -> list.forEach(l::tryAccept)), 100, 0, t -> number(t) >= 64),
                Case.of("buffer(64), quiet queue, safe form", l -> l.receiver.receive(packets -> packets.buffer(64)
                        .doOnNext(list -> list.forEach(l::tryAccept))).subscribe(), 100, 0, t -> number(t) >= 64));
        Map<Lane, Case> byLane = Case.run(cases, this::lane, xEveryTenth);
        // Everything has been read, the pipelines are done with it: what is unresolved now is stranded.
        byLane.forEach((lane, c) -> {
            try {
                KernelWait.until(() -> lane.counters().received() == c.count(), Duration.ofSeconds(3), lane::report);
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        });
        Thread.sleep(500);
        Map<Lane, Integer> strandedAtCheckpoint = new LinkedHashMap<>();
        for (Lane lane : byLane.keySet()) {
            QueueCounters k = lane.counters();
            int unresolved = k.unresolved();
            strandedAtCheckpoint.put(lane, unresolved);
            assertTrue(lane.sinceFirstSend().compareTo(VERDICT_TIMEOUT.minusSeconds(1)) < 0,
                    "the checkpoint is before any timeout: " + lane.sinceFirstSend());
            assertTrue(unresolved > 0, "packets stranded: " + lane.report());
            assertEquals(unresolved, lane.queued().orElse(-1), "the kernel holds them: " + lane.report());
            if (discardMayRace(byLane.get(lane))) {
                // The safe form's switchMap: an inner that had emitted when a newer packet switched
                // is discarded by switchMap, and the discard hook resolves its packet at once.
                assertEquals(k.defaultVerdicts(DefaultVerdictCause.DISCARD), k.totalDefaultVerdicts(),
                        "nothing but DISCARD before the timeout: " + lane.report());
            } else {
                assertEquals(0, k.totalDefaultVerdicts(), "no default verdict before the timeout: " + lane.report());
                lane.ledger.assertOnlyUserVerdicts();
            }
        }
        for (Lane lane : byLane.keySet()) {
            lane.awaitAllResolved(VERDICT_TIMEOUT.plusSeconds(5));
        }
        byLane.forEach((lane, c) -> {
            assertEquals((long) strandedAtCheckpoint.get(lane), lane.ledger.count(DefaultVerdictCause.TIMEOUT), lane.report());
            if (c.stranded() != null) {
                lane.assertFates(t -> c.stranded().test(t) ? Expect.TIMEOUT : Expect.USER);
            } else if (discardMayRace(c)) {
                lane.assertFates(t -> Expect.USER_DISCARD_OR_TIMEOUT);
            } else {
                lane.assertFates(t -> Expect.USER_OR_TIMEOUT);
            }
            if (discardMayRace(c)) {
                assertTrue(lane.ledger.causes().contains(DefaultVerdictCause.TIMEOUT) && Set.of(DefaultVerdictCause.TIMEOUT,
                        DefaultVerdictCause.DISCARD).containsAll(lane.ledger.causes()), lane.report());
            } else {
                assertEquals(Set.of(DefaultVerdictCause.TIMEOUT), lane.ledger.causes(), lane.report());
            }
        });
        // The partial buffers: 28 more packets fill them, the user gets 36 packets that timed out.
        for (Lane lane : byLane.keySet()) {
            if (byLane.get(lane).name().startsWith("buffer(64)")) {
                List<String> more = texts("more-k", 28);
                lane.send(more, 0);
                KernelWait.until(() -> lane.refused.size() == 36 && lane.ledger.userVerdicts() == 64 + 28,
                        Duration.ofSeconds(5), lane::report);
                lane.assertRefusedOnlyBy(DefaultVerdictCause.TIMEOUT);
            }
        }
        for (Lane lane : byLane.keySet()) {
            KernelWait.until(() -> lane.queued().orElse(-1) == 0, Duration.ofSeconds(5), lane::report);
            lane.assertSinkMatchesVerdicts();
            lane.stop();
            lane.assertExactlyOnce();
        }
    }

    /**
     * The same operators where nothing is stranded: in the safe form what they drop goes through
     * Reactor's discard hook and gets the default verdict at once; where the hook does not see
     * the packet (switchMap's cancelled inner, flatMap's failed inner) the pipeline gives the
     * verdict itself, as the table says.
     */
    @Test
    void theSafeFormAndTheFixesResolveAtOnce() throws Exception {
        IntFunction<String> xEveryTenth = i -> i % 10 == 0 ? "x" : "k";
        List<Case> cases = List.of(
                Case.of("skip(100), safe form", l -> l.receiver.receive(packets -> packets.skip(100)
                        .doOnNext(l::accept)).subscribe(), 300, 0, t -> number(t) < 100),
                Case.of("distinct(n % 10), safe form", l -> l.receiver.receive(packets -> packets
                        .distinct(p -> number(text(p)) % 10).doOnNext(l::accept)).subscribe(), 300, 0, t -> number(t) >= 10),
                Case.of("sample(20 ms), safe form", l -> l.receiver.receive(packets -> packets
                        .sample(Duration.ofMillis(20)).doOnNext(l::accept)).subscribe(), 300, 1000, null),
                Case.of("switchMap, packet as the inner's element, safe form", l -> l.receiver.receive(packets -> packets
                        .switchMap(p -> Mono.just(p).delayElement(Duration.ofMillis(5)))
                        .doOnNext(l::accept)).subscribe(), 300, 1000, null),
                // doOnCancel races an inner that has just emitted: a switch at that moment gives the
                // packet CANCEL on its way downstream, where the accept then throws
                // VerdictAlreadyGivenException. The safe form takes that as one packet's error
                // (the packet keeps CANCEL); in the plain form it ends the subscription (seen once in
                // three loaded runs: 72 packets read, then all cancelled). So the plain form's fix
                // is the packet as the inner's element, whose discards a hook of its own sees.
                Case.of("switchMap, inner doOnCancel gives the verdict, safe form", l -> l.receiver.receive(packets -> packets
                        .switchMap(p -> Mono.delay(Duration.ofMillis(5)).thenReturn(p)
                                .doOnCancel(() -> p.defaultVerdict(DefaultVerdictCause.CANCEL)))
                        .doOnNext(l::accept)).subscribe(), 300, 1000, null),
                Case.of("switchMap, packet as the inner's element and a discard hook, plain form", l -> l.receiver.receive()
                        .switchMap(p -> Mono.just(p).delayElement(Duration.ofMillis(5)))
                        .doOnDiscard(Packet.class, p -> p.defaultVerdict(DefaultVerdictCause.DISCARD))
                        .subscribe(l::accept), 300, 1000, null),
                Case.of("flatMap, inner error handled in the inner, safe form", l -> l.receiver.receive(packets -> packets
                        .flatMap(p -> failAsyncOnX(p).onErrorResume(e -> {
                            p.drop();
                            return Mono.empty();
                        }))
                        .doOnNext(l::accept)).subscribe(), 300, 0, OperatorTableKernelTest::isX),
                Case.of("flatMap, inner Mono.error returned at once, safe form", l -> l.receiver.receive(packets -> packets
                        .flatMap(p -> text(p).startsWith("x") ? Mono.<Packet>error(new IllegalStateException("refused"))
                                : Mono.just(p))
                        .doOnNext(l::accept)).subscribe(), 300, 0, OperatorTableKernelTest::isX),
                Case.of("concatMap, inner Mono.error returned at once, safe form", l -> l.receiver.receive(packets -> packets
                        .concatMap(p -> text(p).startsWith("x") ? Mono.<Packet>error(new IllegalStateException("refused"))
                                : Mono.just(p))
                        .doOnNext(l::accept)).subscribe(), 300, 0, OperatorTableKernelTest::isX),
                Case.of("window(10), take(3) of each, safe form", l -> l.receiver.receive(packets -> packets.window(10)
                        .flatMap(w -> w.take(3)).doOnNext(l::accept)).subscribe(), 300, 0, t -> number(t) % 10 >= 3),
                Case.of("processAsync, failing decision", l -> l.receiver.processAsync(p -> failAsyncOnX(p)
                        .map(x -> Verdict.accept()), 16).subscribe(), 300, 0, OperatorTableKernelTest::isX));
        Map<Lane, Case> byLane = Case.run(cases, this::lane, xEveryTenth);
        byLane.forEach((lane, c) -> {
            try {
                lane.awaitAllResolved(Duration.ofSeconds(3));
                KernelWait.until(() -> lane.queued().orElse(-1) == 0, Duration.ofSeconds(3), lane::report);
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
            assertEquals(c.count(), lane.counters().received(), lane.report());
            assertEquals(0, lane.ledger.count(DefaultVerdictCause.TIMEOUT), lane.report());
            boolean userDrops = c.name().contains("handled in the inner");
            if (c.stranded() != null) {
                lane.assertFates(t -> !c.stranded().test(t) ? Expect.USER
                        : userDrops ? Expect.USER_DROP_AT_ONCE : Expect.DEFAULT_AT_ONCE);
            } else {
                lane.assertFates(t -> Expect.USER_OR_DEFAULT_AT_ONCE);
                assertTrue(lane.counters().totalDefaultVerdicts() > 0, "some were dropped: " + lane.report());
            }
        });
        for (Lane lane : byLane.keySet()) {
            lane.assertSinkMatchesVerdicts();
            lane.stop();
            lane.assertExactlyOnce();
        }
    }

    // =======================================================================================
    // The machinery: lanes, the ledger, texts.

    private Lane lane(String name) {
        return lane(name, o -> o);
    }

    /** When set, the next lanes' receivers count a demand stall after this long instead of 5 s. */
    private Duration demandStallAfter;


    /** A queue and port of their own in the test's namespace: rule, receiver, sink, sender. */
    private Lane lane(String name, UnaryOperator<ReceiverOptions> options) {
        int i = lanes.size();
        int queue = BASE_QUEUE + i;
        int port = BASE_PORT + i;
        ns.iptables("-A INPUT -p udp --dport " + port + " -j NFQUEUE --queue-num " + queue);
        Timings timings = demandStallAfter == null ? Timings.DEFAULT : Timings.DEFAULT.withDemandStallAfter(demandStallAfter);
        Lane lane = new Lane(name, ns, queue, port, options.apply(ReceiverOptions.queue(queue)
                .queueOptions(q -> q.networkNamespace(ns.path()))), timings);
        lanes.add(lane);
        return lane;
    }

    /** Runs the senders side by side; returns when all are done (bounded). */
    private static void sendConcurrently(Map<Lane, Runnable> sends) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(sends.size());
        try {
            List<Future<?>> done = new ArrayList<>();
            for (Runnable r : sends.values()) {
                done.add(pool.submit(r));
            }
            for (Future<?> f : done) {
                f.get(30, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /** "k-0", "d-1", ...: {@code count} texts, the kind of each from its number. */
    static List<String> texts(int count, IntFunction<String> kind) {
        return IntStream.range(0, count).mapToObj(i -> kind.apply(i) + "-" + i).collect(Collectors.toList());
    }

    /** "late-k-0", ...: texts of one kind with a prefix, distinct from {@link #texts(int, IntFunction)}. */
    static List<String> texts(String prefix, int count) {
        return IntStream.range(0, count).mapToObj(i -> prefix + "-" + i).collect(Collectors.toList());
    }

    /** "3-7, 12" for [3, 4, 5, 6, 7, 12] (sorted). */
    static String ranges(List<Integer> sorted) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < sorted.size(); i++) {
            int start = sorted.get(i);
            while (i + 1 < sorted.size() && sorted.get(i + 1) == sorted.get(i) + 1) {
                i++;
            }
            b.append(b.length() == 0 ? "" : ", ").append(start).append(start == sorted.get(i) ? "" : "-" + sorted.get(i));
        }
        return b.toString();
    }

    /** The number at the end of a text. */
    static int number(String text) {
        return Integer.parseInt(text.substring(text.lastIndexOf('-') + 1));
    }

    /** The datagram's text (the UDP payload of the packet). */
    static String text(Packet p) {
        return UdpPackets.udpText(p.payloadBytes());
    }

    static int sourcePort(Packet p) {
        return PacketParser.of(p).sourcePort();
    }

    /** The map that throws for the packets whose text starts with "x". */
    static Packet failOnX(Packet p) {
        if (text(p).startsWith("x")) {
            throw new IllegalStateException("cannot inspect " + text(p));
        }
        return p;
    }

    /** What a packet's fate must be. */
    enum Expect {
        /** The user's own ACCEPT. */
        USER,
        /** The user's own DROP, at once. */
        USER_DROP_AT_ONCE,
        /** The default verdict at once (any cause but TIMEOUT). */
        DEFAULT_AT_ONCE,
        /** The user's verdict, or the default one at once. */
        USER_OR_DEFAULT_AT_ONCE,
        /** The user's verdict, or a default one other than the timeout's (when it came is checked apart). */
        USER_OR_DEFAULT,
        /** The default verdict at the verdict timeout, not before. */
        TIMEOUT,
        /** The user's verdict or the timeout's. */
        USER_OR_TIMEOUT,
        /** The user's verdict, the timeout's, or DISCARD at once (an operator that sometimes discards). */
        USER_DISCARD_OR_TIMEOUT
    }

    /** Every verdict a receiver's packets got, by datagram text: who gave it, why, when. */
    static final class Ledger implements ResolutionListener {
        record Fate(String text, Verdict verdict, DefaultVerdictCause cause, long ageNanos, long atNanos) {
            boolean byUser() {
                return cause == null;
            }

            Duration age() {
                return Duration.ofNanos(ageNanos);
            }
        }

        private final Map<String, List<Fate>> fates = new ConcurrentHashMap<>();

        @Override
        public void resolved(Packet packet, Verdict verdict, DefaultVerdictCause cause) {
            long now = System.nanoTime();
            Fate f = new Fate(text(packet), verdict, cause, now - packet.receivedNanos(), now);
            fates.compute(f.text(), (t, old) -> {
                if (old == null) {
                    return List.of(f);
                }
                List<Fate> more = new ArrayList<>(old);
                more.add(f);
                return more;
            });
        }

        Optional<Fate> fate(String text) {
            List<Fate> f = fates.get(text);
            return f == null ? Optional.empty() : Optional.of(f.get(0));
        }

        int size() {
            return fates.size();
        }

        /** Texts with more than one verdict: must be none. */
        Map<String, List<Fate>> duplicates() {
            Map<String, List<Fate>> d = new TreeMap<>();
            fates.forEach((t, f) -> {
                if (f.size() > 1) {
                    d.put(t, f);
                }
            });
            return d;
        }

        long userVerdicts() {
            return fates.values().stream().filter(f -> f.get(0).byUser()).count();
        }

        long count(DefaultVerdictCause cause) {
            return fates.values().stream().filter(f -> f.get(0).cause() == cause).count();
        }

        Set<DefaultVerdictCause> causes() {
            return fates.values().stream().map(f -> f.get(0).cause()).filter(c -> c != null)
                    .collect(Collectors.toSet());
        }

        void assertCauses(Set<DefaultVerdictCause> allowed) {
            Set<DefaultVerdictCause> seen = causes();
            assertTrue(allowed.containsAll(seen), "default verdict causes " + seen + " beyond " + allowed);
        }

        void assertOnlyUserVerdicts() {
            assertEquals(Set.of(), causes(), "no default verdict yet");
        }

        Map<String, Fate> firstFates() {
            Map<String, Fate> m = new TreeMap<>();
            fates.forEach((t, f) -> m.put(t, f.get(0)));
            return m;
        }

        String summary() {
            Map<String, Long> by = new TreeMap<>();
            Duration maxAtOnce = Duration.ZERO;
            Duration minTimeout = null;
            for (List<Fate> l : fates.values()) {
                Fate f = l.get(0);
                by.merge(f.byUser() ? "user " + f.verdict() : String.valueOf(f.cause()), 1L, Long::sum);
                if (f.cause() == DefaultVerdictCause.TIMEOUT) {
                    minTimeout = minTimeout == null || f.age().compareTo(minTimeout) < 0 ? f.age() : minTimeout;
                } else if (f.cause() != null && f.age().compareTo(maxAtOnce) > 0) {
                    maxAtOnce = f.age();
                }
            }
            return by + (maxAtOnce.isZero() ? "" : ", slowest default at once " + maxAtOnce.toMillis() + " ms")
                    + (minTimeout == null ? "" : ", earliest TIMEOUT after " + minTimeout.toMillis() + " ms");
        }
    }

    /** One queue of the test: its rule's port, its receiver, its sink, a sender, and what became of each datagram. */
    static final class Lane implements AutoCloseable {
        final String name;
        final NetNamespace ns;
        final int queue;
        final int port;
        final PacketReceiver receiver;
        final Ledger ledger = new Ledger();
        final DatagramTally sink;
        final DatagramChannel sender;
        final List<DatagramChannel> flows = new ArrayList<>();
        final List<String> sent = Collections.synchronizedList(new ArrayList<>());
        /** Texts whose user verdict threw VerdictAlreadyGivenException, with the default verdict's cause (or none). */
        final Map<String, Optional<DefaultVerdictCause>> refused = new ConcurrentHashMap<>();
        final Map<String, Integer> acceptedBy = new ConcurrentHashMap<>();
        final Map<String, Integer> refusedBy = new ConcurrentHashMap<>();
        /** Verdicts take 1 ms each (to keep packets in the operators' queues). */
        volatile boolean slowAccept;
        volatile Disposable running;

        Lane(String name, NetNamespace ns, int queue, int port, ReceiverOptions options, Timings timings) {
            this.name = name;
            this.ns = ns;
            this.queue = queue;
            this.port = port;
            this.receiver = TestReceivers.create(options.onResolution(ledger), timings);
            this.sink = DatagramTally.start(ns.udpSocket("127.0.0.1", port));
            this.sender = ns.udpSocket("127.0.0.1", 0);
        }

        /** Subscribes (the supplier builds and subscribes the pipeline) and waits until the queue is bound. */
        void start(Supplier<Disposable> subscribe) throws InterruptedException {
            running = subscribe.get();
            awaitBound();
        }

        void awaitBound() throws InterruptedException {
            KernelWait.until(this::isBound, Duration.ofSeconds(5), () -> name + ": bound");
        }

        /** The user's verdict: accept. A refused one is recorded and rethrown, as the user's code would see it. */
        void accept(Packet p) {
            if (slowAccept) {
                LockSupport.parkNanos(1_000_000);
            }
            try {
                p.accept();
            } catch (VerdictAlreadyGivenException e) {
                refused.put(text(p), e.defaultCause());
                throw e;
            }
        }

        /** accept, recording (not rethrowing) a refusal: for pipelines where a refusal is the point. */
        void tryAccept(Packet p) {
            tryAccept("", p);
        }

        void tryAccept(String who, Packet p) {
            if (slowAccept) {
                LockSupport.parkNanos(1_000_000);
            }
            try {
                p.accept();
                acceptedBy.merge(who, 1, Integer::sum);
            } catch (VerdictAlreadyGivenException e) {
                refused.put(text(p), e.defaultCause());
                refusedBy.merge(who, 1, Integer::sum);
            }
        }

        void send(String text) {
            firstSend.compareAndSet(0, System.nanoTime());
            sent.add(text);
            Udp.send(sender, "127.0.0.1", port, text);
        }

        /**
         * Sends the texts as fast as the socket takes them, but at most {@code ahead} beyond what
         * the receiver has read (0: no limit), so that neither the kernel queue nor the sink's
         * socket overflows on a loaded machine.
         */
        void send(List<String> texts, int ahead) {
            for (int i = 0; i < texts.size(); i++) {
                if (ahead > 0 && i % 16 == 0) {
                    awaitRead(i - ahead);
                }
                send(texts.get(i));
            }
        }

        /** One text every {@code micros} microseconds (for lanes whose subscription ends or rebinds). */
        void sendEvery(List<String> texts, long micros) {
            sendEvery(texts, micros, 0);
        }

        /**
         * One text every {@code micros} microseconds, but at most {@code ahead} beyond what the
         * receiver has read (0: no limit): a machine too busy to run the receiver slows the
         * sender down instead of making the kernel queue overflow.
         */
        void sendEvery(List<String> texts, long micros, int ahead) {
            long start = System.nanoTime();
            for (int i = 0; i < texts.size(); i++) {
                if (ahead > 0 && i % 8 == 0) {
                    awaitRead(i - ahead);
                }
                long due = start + i * micros * 1000;
                long wait;
                while ((wait = due - System.nanoTime()) > 0) {
                    LockSupport.parkNanos(wait);
                }
                send(texts.get(i));
            }
        }

        /** Opens {@code n} sender sockets, each a flow of its own (its own source port). */
        void openFlows(int n) {
            while (flows.size() < n) {
                flows.add(ns.udpSocket("127.0.0.1", 0));
            }
        }

        int flowPort(int flow) {
            try {
                return ((InetSocketAddress) flows.get(flow).getLocalAddress()).getPort();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        /** {@code perFlow} texts "f<flow>-<n>" from each of {@code n} flows, round robin. */
        void sendFlows(int n, int perFlow, int ahead) {
            openFlows(n);
            int i = 0;
            for (int k = 0; k < perFlow; k++) {
                for (int f = 0; f < n; f++) {
                    if (ahead > 0 && i % 16 == 0) {
                        awaitRead(i - ahead);
                    }
                    String text = "f" + f + "-" + k;
                    sent.add(text);
                    Udp.send(flows.get(f), "127.0.0.1", port, text);
                    i++;
                }
            }
        }

        void sendFrom(int flow, List<String> texts) {
            for (String t : texts) {
                sent.add(t);
                Udp.send(flows.get(flow), "127.0.0.1", port, t);
            }
        }

        private void awaitRead(long n) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (n > 0 && counters().received() < n) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError(name + ": the receiver did not read " + n + " within 10 s: " + report());
                }
                LockSupport.parkNanos(100_000);
            }
        }

        private final AtomicLong firstSend = new AtomicLong();

        Duration sinceFirstSend() {
            return Duration.ofNanos(System.nanoTime() - firstSend.get());
        }

        /** Texts that went through {@link #tap}: what the pipeline was handed. */
        final Set<String> read = ConcurrentHashMap.newKeySet();

        /** Records each packet's text as it enters the pipeline (a doOnNext at its head). */
        Flux<Packet> tap(Flux<Packet> packets) {
            return packets.doOnNext(p -> read.add(text(p)));
        }

        /** Packets read (through {@link #tap}) whose text starts with {@code prefix}. */
        long readOf(String prefix) {
            return read.stream().filter(t -> t.startsWith(prefix)).count();
        }

        /** Flows seen (distinct source ports) among packets read. */
        int flowsSeen() {
            return (int) ledger.firstFates().keySet().stream().map(t -> t.substring(0, t.indexOf('-'))).distinct().count();
        }

        QueueCounters counters() {
            List<QueueCounters> all = receiver.counters();
            return all.isEmpty() ? new QueueCounters(0, 0, Map.of(), 0, 0, 0, 0) : all.get(0);
        }

        Optional<QueueStats> kernel() {
            return QueueStats.find(ns.path(), queue);
        }

        /** Packets the kernel holds for the queue, or empty when it is not bound. */
        OptionalLong queued() {
            return kernel().map(s -> OptionalLong.of(s.queued())).orElse(OptionalLong.empty());
        }

        boolean isBound() {
            return kernel().isPresent();
        }

        /** Waits until every packet sent so far was read and has a verdict. */
        void awaitAllResolved(Duration max) throws InterruptedException {
            KernelWait.until(() -> {
                QueueCounters c = counters();
                // verdictsSent too: the loop thread counts a batch just after the send returns, so the
                // kernel can act on a verdict (its queue back to 0) a moment before the count shows it.
                return c.received() >= sent.size() && c.unresolved() == 0 && ledger.size() >= c.received()
                        && c.verdictsSent() + c.sendFailures() >= c.received();
            }, max, () -> name + ": every packet sent read, resolved and its verdict sent: " + report());
        }

        /** Waits until every packet the receiver read so far has a verdict (for a receiver that stopped reading). */
        void awaitReadResolved(Duration max) throws InterruptedException {
            KernelWait.until(() -> {
                QueueCounters c = counters();
                return c.received() > 0 && c.unresolved() == 0 && ledger.size() >= c.received();
            }, max, () -> name + ": every packet read resolved: " + report());
        }

        void stop() throws InterruptedException {
            running.dispose();
            KernelWait.until(() -> !isBound(), Duration.ofSeconds(5), () -> name + ": unbound after dispose");
        }

        /**
         * Checks every packet read against {@code expect} (by its text). Every text sent must
         * have been read unless {@code unreadAllowed}.
         */
        void assertFates(Function<String, Expect> expect) {
            assertFates(expect, false);
        }

        void assertFates(Function<String, Expect> expect, boolean unreadAllowed) {
            Map<String, Ledger.Fate> fates = ledger.firstFates();
            List<String> wrong = new ArrayList<>();
            for (String t : List.copyOf(sent)) {
                Ledger.Fate f = fates.get(t);
                if (f == null) {
                    if (!unreadAllowed) {
                        wrong.add(t + ": no verdict");
                    }
                    continue;
                }
                Expect e = expect.apply(t);
                boolean ok = switch (e) {
                    case USER -> f.byUser() && f.verdict().equals(Verdict.accept());
                    case USER_DROP_AT_ONCE -> f.byUser() && f.verdict().equals(Verdict.drop()) && f.age().compareTo(AT_ONCE) < 0;
                    case DEFAULT_AT_ONCE -> f.cause() != null && f.cause() != DefaultVerdictCause.TIMEOUT
                            && f.age().compareTo(AT_ONCE) < 0;
                    case USER_OR_DEFAULT_AT_ONCE -> f.byUser() || (f.cause() != DefaultVerdictCause.TIMEOUT
                            && f.age().compareTo(AT_ONCE) < 0);
                    case USER_OR_DEFAULT -> f.byUser() || f.cause() != DefaultVerdictCause.TIMEOUT;
                    case TIMEOUT -> f.cause() == DefaultVerdictCause.TIMEOUT && f.age().compareTo(VERDICT_TIMEOUT) >= 0;
                    case USER_OR_TIMEOUT -> f.byUser() || (f.cause() == DefaultVerdictCause.TIMEOUT
                            && f.age().compareTo(VERDICT_TIMEOUT) >= 0);
                    case USER_DISCARD_OR_TIMEOUT -> f.byUser() || (f.cause() == DefaultVerdictCause.TIMEOUT
                            && f.age().compareTo(VERDICT_TIMEOUT) >= 0)
                            || (f.cause() == DefaultVerdictCause.DISCARD && f.age().compareTo(AT_ONCE) < 0);
                };
                if (!ok) {
                    wrong.add(t + ": expected " + e + ", was " + (f.byUser() ? "user " + f.verdict() : f.cause())
                            + " after " + f.age().toMillis() + " ms");
                }
            }
            assertTrue(wrong.isEmpty(), name + ": " + wrong.size() + " packets with the wrong fate, e.g. "
                    + wrong.subList(0, Math.min(10, wrong.size())) + "; " + report());
        }

        /** Every user verdict that was refused was refused because of a default verdict of {@code cause}. */
        void assertRefusedOnlyBy(DefaultVerdictCause cause) {
            assertTrue(refused.values().stream().allMatch(c -> c.equals(Optional.of(cause))), name + ": refusals " + refused);
            for (String t : refused.keySet()) {
                assertEquals(Optional.of(cause), ledger.fate(t).map(Ledger.Fate::cause), name + ": " + t);
            }
        }

        void assertNoKernelDrops() {
            QueueStats k = kernel().orElseThrow();
            assertEquals(0, k.queueDropped(), name + ": the kernel queue overflowed: " + k);
            assertEquals(0, k.userDropped(), name + ": the netlink socket overflowed: " + k);
        }

        /**
         * The sink got each packet whose verdict was ACCEPT (the user's, or a default ACCEPT)
         * exactly once, and no other.
         */
        void assertSinkMatchesVerdicts() throws InterruptedException {
            Map<String, Ledger.Fate> fates = ledger.firstFates();
            long accepted = fates.values().stream().filter(f -> f.verdict().equals(Verdict.accept())).count();
            KernelWait.until(() -> sink.total() >= accepted, Duration.ofSeconds(5),
                    () -> name + ": " + accepted + " accepted packets at the sink, " + sink.total() + " arrived");
            Thread.sleep(20);
            List<String> wrong = new ArrayList<>();
            for (String t : List.copyOf(sent)) {
                Ledger.Fate f = fates.get(t);
                int want = f != null && f.verdict().equals(Verdict.accept()) ? 1 : 0;
                if (sink.count(t) != want) {
                    wrong.add(t + " arrived " + sink.count(t) + " times, verdict " + (f == null ? "none" : f.verdict()));
                }
            }
            assertTrue(wrong.isEmpty(), name + ": sink mismatches " + wrong.subList(0, Math.min(10, wrong.size())));
        }

        void assertExactlyOnce() {
            assertExactlyOnce(true);
        }

        /**
         * One verdict per packet read: the ledger has no text twice; the library's counters agree
         * ({@code matchCounters}: of the last subscription, which is all of them unless retried);
         * nothing unresolved, no kernel error.
         */
        void assertExactlyOnce(boolean matchCounters) {
            assertEquals(Map.of(), ledger.duplicates(), name + ": packets with more than one verdict");
            QueueCounters c = counters();
            assertEquals(0, c.unresolved(), name + ": " + c);
            assertEquals(0, c.kernelErrors(), name + ": kernel errors " + c);
            assertEquals(c.received(), c.verdictsSent(), name + ": one verdict sent per packet " + c);
            if (matchCounters) {
                assertEquals(c.received(), ledger.size(), name + ": the ledger saw every verdict " + c);
            }
        }

        String report() {
            Optional<QueueStats> k = kernel();
            return name + " [queue " + queue + "]: sent " + sent.size() + ", " + counters() + ", fates "
                    + ledger.summary() + (refused.isEmpty() ? "" : ", user verdicts refused " + refused.size()
                    + " (causes " + new HashSet<>(refused.values()) + ")")
                    + (acceptedBy.isEmpty() && refusedBy.isEmpty() ? "" : ", accepted by " + acceptedBy
                            + ", refused for " + refusedBy)
                    + ", sink " + sink.total() + ", kernel " + k.map(s -> "queued " + s.queued() + ", queue-dropped "
                    + s.queueDropped() + ", user-dropped " + s.userDropped()).orElse("unbound");
        }

        @Override
        public void close() {
            Disposable r = running;
            if (r != null) {
                r.dispose();
            }
            sink.close();
            try {
                sender.close();
                for (DatagramChannel f : flows) {
                    f.close();
                }
            } catch (IOException ignored) {
                // closing a datagram channel does not fail in practice
            }
        }
    }
}
