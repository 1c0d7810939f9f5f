package io.nfqueue.reactor.longrun;

import io.nfqueue.QueueCounters;
import io.nfqueue.QueueStats;
import io.nfqueue.reactor.PacketReceiver;
import io.nfqueue.reactor.ReceiverOptions;
import io.nfqueue.test.kernel.NetNamespace;
import io.nfqueue.test.kernel.Udp;
import io.nfqueue.testing.ProcessMemory;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;

import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * The long run (a program, not a test): {@code LongRunMain [PACKETS] [WINDOW] [EVERY]} (default
 * 10 000 000, 512 and 500 000) sends PACKETS datagrams through a queue in a fresh namespace, received
 * through {@code PacketReceiver.receive()} (the Flux path), each verdicted after a random delay
 * of 0..500 µs on Reactor's parallel scheduler (every seventh dropped, the rest accepted). The
 * sender keeps at most WINDOW packets ahead of the verdicts. Every EVERY packets it prints heap
 * (after GC), RSS, direct buffers, open descriptors, the kernel's queue line and the library's
 * counters, and, when the JVM runs with {@code -XX:NativeMemoryTracking=summary}, the native memory
 * the JVM has committed in all and outside the Java heap; with NMT it takes an NMT baseline after
 * the first sample and prints the NMT summary diff against it at the end. At the end it checks
 * that every packet was verdicted, nothing stays queued, and exits 0 (else 1).
 * Needs root. Run: see docs/reliability.md.
 */
public final class LongRunMain {
    private static final int PORT = 9995;
    private static final int QUEUE = 28;

    private LongRunMain() {
    }

    public static void main(String[] args) throws Exception {
        long packets = args.length > 0 ? Long.parseLong(args[0]) : 10_000_000L;
        int window = args.length > 1 ? Integer.parseInt(args[1]) : 512;
        long every = args.length > 2 ? Long.parseLong(args[2]) : 500_000L;
        boolean nmt = ProcessMemory.nmtEnabled();
        AtomicLong verdicted = new AtomicLong();
        AtomicLong arrived = new AtomicLong();
        boolean ok;
        try (NetNamespace ns = NetNamespace.create()) {
            ns.iptables("-A OUTPUT -p udp --dport " + PORT + " -j NFQUEUE --queue-num " + QUEUE);
            PacketReceiver receiver = PacketReceiver.create(ReceiverOptions.queue(QUEUE)
                    .maxInFlight(window * 2)
                    .verdictTimeout(Duration.ofSeconds(5))
                    .queueOptions(q -> q.copyRange(128).networkNamespace(ns.path())));
            DatagramChannel sink = ns.udpSocket("127.0.0.1", PORT);
            Thread sinkReader = new Thread(() -> {
                ByteBuffer buf = ByteBuffer.allocate(2048);
                try {
                    while (true) {
                        sink.receive(buf.clear());
                        arrived.incrementAndGet();
                    }
                } catch (Exception ignored) {
                    // closed at the end
                }
            }, "sink");
            sinkReader.setDaemon(true);
            sinkReader.start();

            Disposable running = receiver.receive()
                    .flatMap(p -> Mono.just(p).delayElement(Duration.ofNanos(ThreadLocalRandom.current().nextLong(500_000))),
                            window * 2)
                    .subscribe(p -> {
                        if (p.id() % 7 == 0) {
                            p.drop();
                        } else {
                            p.accept();
                        }
                        verdicted.incrementAndGet();
                    }, e -> {
                        System.out.println("ERROR " + e);
                        e.printStackTrace(System.out);
                    });
            long t0 = System.nanoTime();
            sample("start", 0, t0, ns, receiver, arrived);
            if (nmt) {
                ProcessMemory.nmt("baseline");
            }
            try (DatagramChannel sender = ns.udpSocket("127.0.0.1", 0)) {
                byte[] data = new byte[64];
                for (long i = 1; i <= packets; i++) {
                    long waitStart = System.nanoTime();
                    while (i - verdicted.get() > window) {
                        LockSupport.parkNanos(20_000);
                        if (System.nanoTime() - waitStart > TimeUnit.SECONDS.toNanos(30)) {
                            throw new IllegalStateException("stalled at packet " + i + ": verdicted " + verdicted.get());
                        }
                    }
                    Udp.send(sender, "127.0.0.1", PORT, data);
                    if (i % every == 0) {
                        sample("sent " + i, i, t0, ns, receiver, arrived);
                    }
                }
            }
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (verdicted.get() < packets && System.nanoTime() < end) {
                Thread.sleep(10);
            }
            Thread.sleep(500);
            sample("end", packets, t0, ns, receiver, arrived);
            if (nmt) {
                System.out.println("NMT against the baseline taken after the start sample:");
                System.out.println(ProcessMemory.nmt("summary.diff"));
            }
            QueueStats s = QueueStats.find(ns.path(), QUEUE).orElseThrow();
            QueueCounters c = receiver.counters().get(0);
            ok = verdicted.get() == packets && s.queued() == 0 && c.received() == packets
                    && c.kernelErrors() == 0 && c.totalDefaultVerdicts() == 0;
            running.dispose();
            sink.close();
            System.out.println((ok ? "OK " : "FAILED ") + "verdicted=" + verdicted.get() + " of " + packets + " " + c + " " + s
                    + " seconds=" + (System.nanoTime() - t0) / 1_000_000_000);
        }
        System.exit(ok ? 0 : 1);
    }

    private static void sample(String label, long sent, long t0, NetNamespace ns, PacketReceiver receiver, AtomicLong arrived)
            throws Exception {
        System.gc();
        long heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
        long rssKb = ProcessMemory.rssKiB();
        String native_ = "";
        if (ProcessMemory.nmtEnabled()) {
            long[] committed = ProcessMemory.nmtCommittedKiB();
            native_ = " nmtMiB=" + (committed[0] >> 10) + " nmtNonHeapMiB=" + (committed[1] >> 10);
        }
        long fds;
        try (var list = Files.list(Path.of("/proc/self/fd"))) {
            fds = list.count();
        }
        String kernel = QueueStats.find(ns.path(), QUEUE).map(QueueStats::toString).orElse("unbound");
        String counters = receiver.counters().isEmpty() ? "-" : receiver.counters().get(0).toString();
        double secs = (System.nanoTime() - t0) / 1e9;
        System.out.printf("%s t=%.1fs rate=%.0f/s heapMiB=%d rssMiB=%d directKiB=%d%s fds=%d arrived=%d kernel=%s lib=%s%n",
                label, secs, secs > 0 ? sent / secs : 0, heap >> 20, rssKb >> 10, ProcessMemory.directKiB(), native_, fds,
                arrived.get(), kernel, counters);
    }
}
