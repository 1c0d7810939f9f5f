package io.nfqueue.reactor;

import io.nfqueue.DefaultVerdictCause;
import io.nfqueue.Packet;
import io.nfqueue.QueueCounters;
import io.nfqueue.QueueStats;
import io.nfqueue.Verdict;
import io.nfqueue.test.kernel.DatagramTally;
import io.nfqueue.test.kernel.KernelQueues;
import io.nfqueue.test.kernel.KernelTest;
import io.nfqueue.test.kernel.NetNamespace;
import io.nfqueue.test.kernel.Udp;
import io.nfqueue.testing.RaceOutcome;
import io.nfqueue.testing.UdpPackets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import reactor.core.Disposable;
import reactor.core.publisher.Hooks;
import reactor.test.util.RaceTestUtils;

import java.nio.channels.DatagramChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.IntUnaryOperator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The races of {@code PacketReceiverRaceTest} (fake transport) on a real queue. Each round
 * subscribes anew, holds {@value #HELD} numbered packets (the in-flight limit) while
 * {@value #UNREAD} more wait unread in the socket, then cancels the subscription while two other
 * threads give the verdicts (every third packet dropped, the rest accepted; default verdict
 * ACCEPT). The kernel judges: a packet whose program DROP won never arrives, every other one
 * arrives exactly once; the library sent exactly one verdict per packet; the queue is unbound
 * with nothing left in it; no error was dropped by Reactor.
 */
@KernelTest
@Timeout(120)
class PacketReceiverRaceKernelTest {
    private static final int PORT = 9430;
    private static final int QUEUE = 43;
    private static final int HELD = 32;
    private static final int UNREAD = 8;
    private final Random random = new Random(43);
    private final List<Throwable> dropped = new CopyOnWriteArrayList<>();
    private NetNamespace ns;

    @BeforeEach
    void setUp() {
        ns = NetNamespace.create();
        ns.iptables("-A OUTPUT -p udp --dport " + PORT + " -j NFQUEUE --queue-num " + QUEUE);
        Hooks.onErrorDropped(dropped::add);
    }

    @AfterEach
    void tearDown() {
        Hooks.resetOnErrorDropped();
        ns.close();
    }

    private ReceiverOptions options() {
        return ReceiverOptions.queue(QUEUE)
                .maxInFlight(HELD)
                .noVerdictTimeout() // only where a test races the timeout on purpose
                .defaultVerdict(Verdict.accept())
                .queueOptions(q -> q.networkNamespace(ns.path()).copyRange(128));
    }

    /** Cancel against verdicts from two other threads: 50 rounds. */
    @Test
    void cancelRacingVerdictsFromOtherThreads() throws Exception {
        int[] wins = rounds("cancel", 50, options(), round -> 0);
        System.out.println("cancel racing verdicts: program won " + wins[0] + ", cancel won " + wins[1] + " of the held packets");
        assertTrue(wins[0] > 0 && wins[1] > 0, "both sides must win some races, or this raced nothing");
    }

    /**
     * Cancel against verdicts and the verdict timeout (100 ms; the watchdog looks every 10 ms),
     * the race started 0..200 ms after this thread saw the packets: 40 rounds. The timeout is
     * long enough that a test thread descheduled for tens of milliseconds on a loaded machine
     * (the race loop runs these beside busy loops) still starts some rounds before it, and the
     * delays reach past it, so each side wins some.
     */
    @Test
    void cancelRacingVerdictsAndTheVerdictTimeout() throws Exception {
        int[] wins = rounds("timeout", 40, options().verdictTimeout(Duration.ofMillis(100)), round -> random.nextInt(200));
        System.out.println("cancel racing verdicts and the timeout: program won " + wins[0] + ", cancel or timeout won "
                + wins[1] + " of the held packets");
        assertTrue(wins[0] > 0 && wins[1] > 0, "both sides must win some races, or this raced nothing");
    }

    /** Runs the rounds; returns {program wins, default wins} over the held packets. */
    private int[] rounds(String name, int rounds, ReceiverOptions options,
                         IntUnaryOperator delayMillis) throws Exception {
        int programWins = 0;
        int defaultWins = 0;
        boolean timeouts = options.verdictTimeout().isPresent();
        try (DatagramChannel sender = ns.udpSocket("127.0.0.1", 0);
             DatagramTally sink = DatagramTally.start(ns.udpSocket("127.0.0.1", PORT))) {
            for (int round = 0; round < rounds; round++) {
                String tag = name + "-" + round + "-";
                // Every resolution with its packet's index, for the message of a failed round.
                Map<Integer, String> resolutions = new ConcurrentSkipListMap<>();
                PacketReceiver receiver = PacketReceiver.create(options.onResolution((p, v, cause) -> resolutions.merge(
                        index(p), "id " + Integer.toUnsignedString(p.id()) + ' ' + v.kind() + (cause == null ? "" : " " + cause),
                        (a, b) -> a + " then " + b)));
                List<Packet> held = Collections.synchronizedList(new ArrayList<>());
                Disposable running = receiver.receive().subscribe(held::add);
                try {
                    // subscribe() has bound the queue on this thread before returning.
                    for (int i = 0; i < HELD + UNREAD; i++) {
                        Udp.send(sender, "127.0.0.1", PORT, tag + i);
                    }
                    KernelWait.until(() -> held.size() >= HELD, Duration.ofSeconds(5), () -> "held " + held.size());
                    List<Packet> packets = new ArrayList<>(held);
                    packets.sort((a, b) -> Integer.compare(index(a), index(b)));
                    if (timeouts) {
                        // A packet timed out is resolved and frees its in-flight place, so when
                        // this thread looks late (a pause past the timeout and the receive
                        // thread's next turn), the unread ones may have been read and timed out
                        // too. The race is over the first HELD, as without a timeout.
                        packets = new ArrayList<>(packets.subList(0, HELD));
                    } else {
                        assertEquals(HELD, held.size(), "never more in flight than maxInFlight");
                    }
                    for (int i = 0; i < HELD; i++) {
                        assertEquals(i, index(packets.get(i)), "the first " + HELD + " packets are the ones held");
                    }
                    Thread.sleep(delayMillis.applyAsInt(round));

                    RaceOutcome outcome = new RaceOutcome(HELD);
                    List<Packet> racing = packets;
                    int cancelAfter = random.nextInt(300);
                    int spacingA = random.nextInt(20);
                    int spacingB = random.nextInt(20);
                    RaceTestUtils.race(
                            () -> {
                                spin(cancelAfter);
                                running.dispose();
                            },
                            () -> giveVerdicts(racing, 0, outcome, spacingA),
                            () -> giveVerdicts(racing, 1, outcome, spacingB));
                    assertNull(outcome.failure(), () -> "round " + outcome.failure());

                    QueueCounters c = receiver.counters().get(0);
                    String where = "round " + tag + " (cancel after " + cancelAfter + " µs): " + c;
                    long defaults = c.totalDefaultVerdicts();
                    // The kernel's judgement first, then the library's own account.
                    assertEquals(List.of(), outcome.arrivalProblems(sink, tag, HELD + UNREAD),
                            () -> where + "; resolutions by index: " + resolutions);
                    assertEquals(HELD + UNREAD, c.received(), where);
                    assertEquals(HELD + UNREAD, c.verdictsSent(), "one verdict sent per packet, " + where);
                    assertEquals(HELD + UNREAD, outcome.programWins() + defaults, where);
                    // Held packets get CANCEL (or TIMEOUT); those still unread in the socket, CLOSE.
                    assertEquals(defaults, c.defaultVerdicts(DefaultVerdictCause.CANCEL)
                            + c.defaultVerdicts(DefaultVerdictCause.TIMEOUT)
                                    + c.defaultVerdicts(DefaultVerdictCause.CLOSE), where);
                    assertTrue(c.defaultVerdicts(DefaultVerdictCause.CLOSE) <= UNREAD, where);
                    assertEquals(outcome.losses(), outcome.lostTo(DefaultVerdictCause.CANCEL)
                            + outcome.lostTo(DefaultVerdictCause.TIMEOUT),
                                    "every lost race was lost to cancel or timeout, " + where);
                    assertEquals(0, c.kernelErrors(), where);
                    assertEquals(0, c.sendFailures(), where);
                    assertEquals(0, c.unresolved(), where);
                    Optional<QueueStats> line = KernelQueues.find(ns, QUEUE);
                    assertTrue(line.isEmpty(), "unbound after cancel: " + line);
                    programWins += outcome.programWins();
                    defaultWins += (int) defaults - UNREAD;
                } finally {
                    running.dispose();
                }
            }
            assertNull(sink.failure());
        }
        assertEquals(List.of(), dropped, "errors dropped at the end of a subscription");
        return new int[] {programWins, defaultWins};
    }

    /** Verdicts for the packets first, first + 2, ...: two threads share the held packets. */
    private static void giveVerdicts(List<Packet> packets, int first, RaceOutcome outcome, int spacingMicros) {
        try {
            for (int i = first; i < packets.size(); i += 2) {
                outcome.give(packets.get(i), i);
                spin(spacingMicros);
            }
        } catch (Throwable e) {
            outcome.fail(e);
        }
    }

    private static int index(Packet p) {
        String text = UdpPackets.udpText(p.payloadBytes());
        return Integer.parseInt(text.substring(text.lastIndexOf('-') + 1));
    }

    private static void spin(int micros) {
        long end = System.nanoTime() + micros * 1000L;
        while (System.nanoTime() < end) {
            Thread.onSpinWait();
        }
    }
}
