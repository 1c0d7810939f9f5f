package io.nfqueue.test;

import io.nfqueue.Hook;
import io.nfqueue.Packet;
import io.nfqueue.reactor.ReceiverOptions;
import io.nfqueue.test.pcap.Direction;
import org.reactivestreams.Publisher;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.test.scheduler.VirtualTimeScheduler;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Function;

/**
 * Replays a capture file (classic pcap or pcapng, as tcpdump, dumpcap and Wireshark write them)
 * through a pipeline, the way a queue would have delivered its packets, and reports what each
 * packet got. The pipeline runs on the library's real receiver over a {@link TestQueue}: no
 * kernel, no root, the same code path and default verdicts as in production.
 *
 * <pre>{@code
 * ReplayReport report = CaptureReplay.of(Path.of("incident.pcap"))
 *         .hook(Hook.LOCAL_OUT)                        // the rule that feeds the program sits in OUTPUT
 *         .atRecordedSpeed()                           // keep the gaps between packets (default: maximum speed)
 *         .receiverOptions(ReceiverOptions.queue(0).defaultVerdict(Verdict.accept()))
 *         .run(packets -> packets.doOnNext(p -> p.verdict(firewall.decide(p))));
 * report.lines().forEach(System.out::println);   // #1  +0.000000s  LOCAL_OUT UDP ... =>  ACCEPT by the program
 * System.out.println(report.summary());          // 12 packets replayed ...: ACCEPT 9, DROP 3; 2 records skipped: ...
 * assertEquals(3, report.count(Verdict.Kind.DROP));
 * report.writePcapng(Path.of("verdicts.pcapng"));   // open it in Wireshark: each verdict is the packet's comment
 * }</pre>
 *
 * <p>How it goes:
 * <ol>
 *   <li>The whole capture is read first, so a file that is missing, not a capture, cut short or
 *       of a link type nothing decodes fails at once with an exception naming the file and what
 *       was found ({@link java.nio.file.NoSuchFileException},
 *       {@link io.nfqueue.test.pcap.CaptureFormatException}, {@link UnsupportedLinkTypeException}),
 *       before the pipeline sees a packet. Records without an IP packet (ARP, LLDP, ...) are
 *       skipped and reported.</li>
 *   <li>Each IP packet becomes a queued packet as {@link CaptureMapping} says (hook from its
 *       direction, timestamp, devices, hardware address; a snap-length cut packet arrives
 *       truncated, with its original length).</li>
 *   <li>The pipeline is subscribed, and the packets are offered in capture order: all at once
 *       ({@link #atMaximumSpeed()}, the default), or with the recorded gaps between them, in real
 *       time ({@link #atRecordedSpeed()}, {@link #atSpeed(double)}). The test queue holds every
 *       packet offered until the pipeline reads it (it has no max-length to overflow), so
 *       maximum speed loses none, however slow the pipeline.</li>
 *   <li>The replay waits for every packet's verdict. A packet the pipeline forgets gets the
 *       receiver's default verdict at its verdict timeout (5 s unless the options say otherwise)
 *       and the report says so. The wait is bounded: once {@link #settleTimeout} passes without
 *       a new verdict, the replay cancels the pipeline: packets it had read get the default
 *       verdict (CANCEL), packets it had not read get it as the library unbinds (CLOSE), and
 *       the report says so. Packets offered after the pipeline ended by itself (completed,
 *       failed) get none, and the report says why.</li>
 * </ol>
 *
 * <p>The replay runs in real time (verdict timeouts, recorded gaps): do not run it inside
 * {@code StepVerifier.withVirtualTime}. It holds the capture in memory a few times over: meant
 * for test captures, not for gigabytes. Immutable; {@link #run} may be called again.
 */
public final class CaptureReplay {
    /** The longest recorded gap a replay waits, unless {@link #maxGap} says otherwise. */
    public static final Duration DEFAULT_MAX_GAP = Duration.ofSeconds(60);
    /** How long the replay waits for a pipeline that has ended or was cancelled to let go of the queue. */
    private static final Duration RELEASE_WAIT = Duration.ofSeconds(5);
    /** Without a verdict timeout, how long the replay waits for a verdict before it cancels the pipeline. */
    private static final Duration SETTLE_WITHOUT_TIMEOUT = Duration.ofSeconds(5);
    /** Beyond the verdict timeout: time for the watchdog to fire and the verdict to be applied. */
    private static final Duration SETTLE_MARGIN = Duration.ofSeconds(2);

    private final Path capture;
    private final double speed;
    private final Duration maxGap;
    private final CaptureMapping mapping;
    private final ReceiverOptions options;
    private final Duration settleTimeout;

    private CaptureReplay(Path capture, double speed, Duration maxGap, CaptureMapping mapping, ReceiverOptions options,
                          Duration settleTimeout) {
        this.capture = capture;
        this.speed = speed;
        this.maxGap = maxGap;
        this.mapping = mapping;
        this.options = options;
        this.settleTimeout = settleTimeout;
    }

    /**
     * A replay of {@code capture} at maximum speed, with the standard {@link CaptureMapping} and
     * the default receiver options of queue 0. Nothing is read until {@link #run}.
     */
    public static CaptureReplay of(Path capture) {
        Objects.requireNonNull(capture, "capture");
        return new CaptureReplay(capture, 0, DEFAULT_MAX_GAP, CaptureMapping.standard(), ReceiverOptions.queue(0), null);
    }

    /** Offers every packet at once (the default); the queue holds them until the pipeline reads them. */
    public CaptureReplay atMaximumSpeed() {
        return new CaptureReplay(capture, 0, maxGap, mapping, options, settleTimeout);
    }

    /** Keeps the gaps the capture recorded between packets, in real time. */
    public CaptureReplay atRecordedSpeed() {
        return atSpeed(1);
    }

    /** Recorded gaps divided by {@code factor}: 2 replays twice as fast, 0.5 at half speed. */
    public CaptureReplay atSpeed(double factor) {
        if (!(factor > 0) || Double.isInfinite(factor)) {
            throw new IllegalArgumentException("a speed factor is a positive number (1: as recorded): " + factor);
        }
        return new CaptureReplay(capture, factor, maxGap, mapping, options, settleTimeout);
    }

    /**
     * The longest gap waited between two packets at recorded speed (default
     * {@link #DEFAULT_MAX_GAP}): a longer one, a capture paused or a clock that stepped, is cut
     * to this, so a wrong timestamp cannot stall a replay for hours.
     */
    public CaptureReplay maxGap(Duration gap) {
        Objects.requireNonNull(gap, "gap");
        if (gap.isNegative()) {
            throw new IllegalArgumentException("a gap is not negative: " + gap);
        }
        return new CaptureReplay(capture, speed, gap, mapping, options, settleTimeout);
    }

    /** How captured packets become queued ones (hooks per direction). */
    public CaptureReplay mapping(CaptureMapping value) {
        Objects.requireNonNull(value, "mapping");
        return new CaptureReplay(capture, speed, maxGap, value, options, settleTimeout);
    }

    /** Every packet at {@code hook}, as a queue fed by one rule in one chain sees them ({@code standard().hook(hook)}). */
    public CaptureReplay hook(Hook hook) {
        return mapping(CaptureMapping.standard().hook(hook));
    }

    /** Packets that went {@code direction} at {@code hook}, the others as the mapping says. */
    public CaptureReplay hook(Direction direction, Hook hook) {
        return mapping(mapping.hook(direction, hook));
    }

    /**
     * The receiver's options (one queue: its number is the test queue's): default verdict,
     * verdict timeout, maxInFlight, copy range through {@code queueOptions}, ... as in production.
     */
    public CaptureReplay receiverOptions(ReceiverOptions value) {
        Objects.requireNonNull(value, "receiverOptions");
        if (value.queueCount() != 1) {
            throw new IllegalArgumentException("a replay feeds one queue; the options name queues " + value.firstQueue()
                    + ".." + value.lastQueue());
        }
        return new CaptureReplay(capture, speed, maxGap, mapping, value, settleTimeout);
    }

    /**
     * After the last packet is offered, how long the replay waits without any new verdict before
     * it cancels the pipeline. Default: the verdict timeout plus 2 s (7 s with the default
     * options), so that a packet the pipeline forgot gets its timeout verdict first; 5 s when the
     * options have no verdict timeout.
     */
    public CaptureReplay settleTimeout(Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative()) {
            throw new IllegalArgumentException("a timeout is not negative: " + timeout);
        }
        return new CaptureReplay(capture, speed, maxGap, mapping, options, timeout);
    }

    /** The settle timeout in force: the one set, or the one the verdict timeout implies. */
    public Duration settleTimeout() {
        return settleTimeout != null ? settleTimeout
                : options.verdictTimeout().map(t -> t.plus(SETTLE_MARGIN)).orElse(SETTLE_WITHOUT_TIMEOUT);
    }

    /**
     * Replays the capture through {@code pipeline} (the shape of {@link TestQueue#receive(Function)}
     * and {@code PacketReceiver.receive(Function)}: the safe form, so packets it drops or errors
     * on get the default verdict at once) and reports what each packet got. Blocks for the
     * replay's length: at maximum speed about as long as the pipeline takes; at recorded speed
     * the capture's length (gaps cut to {@link #maxGap}); plus, for packets left without a
     * verdict, at most the {@link #settleTimeout}.
     *
     * @throws java.nio.file.NoSuchFileException           when the capture file does not exist
     * @throws io.nfqueue.test.pcap.CaptureFormatException when it is not a pcap or pcapng file, or a
     *                                                     damaged one (the message says where and what)
     * @throws UnsupportedLinkTypeException                when none of its records is of a link type
     *                                                     the replay decodes
     * @throws InterruptedIOException                      when the thread is interrupted (the
     *                                                     pipeline is cancelled first)
     * @throws IllegalStateException                       inside {@code StepVerifier.withVirtualTime}
     */
    public <R> ReplayReport run(Function<? super Flux<Packet>, ? extends Publisher<R>> pipeline) throws IOException {
        Objects.requireNonNull(pipeline, "pipeline");
        if (options.timer().isEmpty() && VirtualTimeScheduler.isFactoryEnabled()) {
            throw new IllegalStateException("a capture replay runs in real time, but reactor-test's virtual-time scheduler "
                    + "is installed (StepVerifier.withVirtualTime?): run the replay outside it");
        }
        ReplayInput input = ReplayInput.read(capture);
        TestQueue queue = TestQueue.create(options.firstQueue());
        PipelineEnd end = new PipelineEnd();
        List<ReplayInput.Item> items = new ArrayList<>();
        List<OfferedPacket> offered = new ArrayList<>();
        List<Boolean> offeredAfterEnd = new ArrayList<>();
        long start = System.nanoTime();
        Disposable subscription = queue.receive(options, pipeline).subscribe(r -> { }, end::failed, end::completed);
        boolean settled;
        int waiting;
        try {
            ReplayPacer pacer = new ReplayPacer(speed, maxGap);
            for (ReplayInput.Item item : input.items()) {
                if (item.ip() == null) {
                    continue;
                }
                pacer.awaitTurn(item.record().timestamp(), end::hasEnded);
                offeredAfterEnd.add(end.hasEnded());
                offered.add(queue.offer(mapping.toQueuedPacket(item.ip())).get(0));
                items.add(item);
            }
            settled = awaitSettled(queue, offered.size(), end);
            waiting = offered.size() - queue.settledCount();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            InterruptedIOException ie = new InterruptedIOException("the replay of " + capture + " was interrupted");
            ie.initCause(e);
            throw ie;
        } finally {
            subscription.dispose();
        }
        int total = offered.size();
        // Cancelling resolves what the pipeline had read; the socket closing drops what it had not.
        boolean released = await(() -> queue.settledCount() + queue.unboundCount() >= total, RELEASE_WAIT);
        Duration elapsed = Duration.ofNanos(System.nanoTime() - start);
        String outcome = end.describe(settled, settleTimeout(), waiting, released);
        return new ReplayReport(input.source(), pace(), replayed(queue, items, offered, offeredAfterEnd, outcome),
                skipped(input), outcome, end.error(), elapsed);
    }

    /**
     * Waits until every packet has its verdict, the pipeline ends by itself, or the settle
     * timeout passes without a new verdict; false in the last case.
     */
    private boolean awaitSettled(TestQueue queue, int total, PipelineEnd end) throws InterruptedException {
        long idle = settleTimeout().toNanos();
        int last = -1;
        long lastChange = System.nanoTime();
        while (true) {
            int settled = queue.settledCount();
            if (settled >= total || end.hasEnded()) {
                if (!end.hasEnded() && !queue.isBound()) {
                    // The pipeline ended its subscription itself (take(n) cancels upstream, which
                    // resolves and unbinds, then completes): its terminal signal is on its way, and
                    // cancelling now would report the replay's cancel instead of how it ended.
                    await(end::hasEnded, settleTimeout());
                }
                return true;
            }
            long now = System.nanoTime();
            if (settled != last) {
                last = settled;
                lastChange = now;
            } else if (now - lastChange >= idle) {
                return false;
            }
            TimeUnit.MILLISECONDS.sleep(5);
        }
    }

    private static boolean await(BooleanSupplier done, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!done.getAsBoolean()) {
            if (System.nanoTime() - deadline >= 0) {
                return false;
            }
            try {
                TimeUnit.MILLISECONDS.sleep(2);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return true;
    }

    private static List<ReplayedPacket> replayed(TestQueue queue, List<ReplayInput.Item> items, List<OfferedPacket> offered,
                                                 List<Boolean> offeredAfterEnd, String outcome) {
        List<ReplayedPacket> out = new ArrayList<>(offered.size());
        for (int i = 0; i < offered.size(); i++) {
            ReplayInput.Item item = items.get(i);
            OfferedPacket o = offered.get(i);
            Optional<GivenVerdict> verdict = queue.verdictOf(o);
            Optional<String> reason = Optional.empty();
            if (verdict.isEmpty()) {
                reason = Optional.of(offeredAfterEnd.get(i) ? "offered after the pipeline " + outcome
                        + ", so no program held the queue" : queue.state(o).replaceFirst("^no verdict(: )?", ""));
            }
            out.add(new ReplayedPacket(item.index(), item.record().timestamp(), o.summary(), o, verdict, reason, item.ip()));
        }
        return out;
    }

    private static List<SkippedRecord> skipped(ReplayInput input) {
        List<SkippedRecord> out = new ArrayList<>();
        for (ReplayInput.Item item : input.items()) {
            if (item.ip() == null) {
                out.add(new SkippedRecord(item.index(), item.record().timestamp(), item.record().linkType(), item.skipReason()));
            }
        }
        return out;
    }

    private String pace() {
        if (speed == 0) {
            return "at maximum speed";
        }
        return speed == 1 ? "at recorded speed" : String.format(Locale.ROOT, "at %sx recorded speed", trim(speed));
    }

    private static String trim(double d) {
        return d == Math.rint(d) ? Long.toString((long) d) : Double.toString(d);
    }

    @Override
    public String toString() {
        return "CaptureReplay{" + capture + ", " + pace() + ", " + mapping + ", " + options + '}';
    }
}
