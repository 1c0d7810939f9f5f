package io.nfqueue.reactor;

import io.nfqueue.Packet;
import io.nfqueue.QueueCounters;
import io.nfqueue.testing.ProcessMemory;
import io.nfqueue.testing.UdpPackets;
import reactor.core.Disposable;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The slow subscriber of {@code PacketReceiverOverloadKernelTest}, in a JVM of its own so that its
 * memory is its own: {@code FloodReceiverMain QUEUE NETNS_PATH CEILING SPIN_MICROS} subscribes to
 * {@code PacketReceiver.receive().limitRate(16)} (max-length 1..CEILING, maxInFlight CEILING,
 * overflow DROP), spins SPIN_MICROS per packet, then accepts it; prints {@code BOUND <pid>}, then
 * obeys commands on stdin, one per line:
 * <ul>
 *   <li>{@code MARK}: after a GC, prints the baseline {@code BASE ...} and resets the kernel's peak
 *       RSS (VmHWM, via {@code /proc/self/clear_refs}), then samples memory every 20 ms (native
 *       memory tracking every 200 ms) until {@code PEAK};</li>
 *   <li>{@code PEAK}: prints the peaks since MARK, {@code PEAK ...};</li>
 *   <li>{@code END}: cancels the subscription, prints the library's counters and the heap after a
 *       GC, {@code END ...}, and exits.</li>
 * </ul>
 * Memory lines read {@code key=value} with sizes in KiB: {@code rss} (VmRSS; in PEAK the largest
 * sample), {@code hwm} (VmHWM: the kernel's own peak since MARK, no sampling gap), {@code heap}
 * (heap used), {@code direct} (direct buffers, BufferPoolMXBean), {@code nmt} (total committed
 * per native memory tracking, which the JVM must run with {@code -XX:NativeMemoryTracking=summary}),
 * {@code nmtNonHeap} (the same without the Java heap). NMT counts the JVM's own allocations
 * (direct buffers included), not the malloc calls of native libraries such as libnetfilter_queue:
 * RSS covers those. Exits when stdin closes (the test ended or died) or after 300 s.
 */
public final class FloodReceiverMain {
    private FloodReceiverMain() {
    }

    public static void main(String[] args) throws Exception {
        int queue = Integer.parseInt(args[0]);
        Path netns = Path.of(args[1]);
        int ceiling = Integer.parseInt(args[2]);
        long spinNanos = TimeUnit.MICROSECONDS.toNanos(Long.parseLong(args[3]));
        // Stop even if the parent forgets us.
        Thread guard = new Thread(() -> {
            try {
                Thread.sleep(TimeUnit.SECONDS.toMillis(300));
            } catch (InterruptedException e) {
                return;
            }
            System.out.println("GIVING UP after 300 s");
            System.exit(3);
        }, "guard");
        guard.setDaemon(true);
        guard.start();

        PacketReceiver receiver = PacketReceiver.create(ReceiverOptions.queue(queue)
                .maxLengthBounds(1, ceiling)
                .maxInFlight(ceiling)
                .overflow(OverflowPolicy.DROP)
                .queueOptions(q -> q.networkNamespace(netns)));
        AtomicLong resumed = new AtomicLong();
        Disposable running = receiver.receive()
                .limitRate(16)
                .subscribe(p -> handle(p, spinNanos, resumed));
        System.out.println("BOUND " + ProcessHandle.current().pid());

        Sampler sampler = null;
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null) {
            switch (line.trim()) {
                case "MARK": {
                    System.gc();
                    Thread.sleep(100);
                    Sample base = Sample.take(true);
                    ProcessMemory.resetPeakRss();
                    sampler = new Sampler(base);
                    sampler.start();
                    System.out.println("BASE " + base);
                    break;
                }
                case "PEAK":
                    if (sampler == null) {
                        throw new IllegalStateException("PEAK before MARK");
                    }
                    System.out.println("PEAK " + sampler.finish());
                    break;
                case "END": {
                    running.dispose();
                    QueueCounters c = receiver.counters().get(0);
                    System.gc();
                    Thread.sleep(100);
                    long heapAfterGc = ProcessMemory.heapUsedKiB();
                    System.out.println("END received=" + c.received() + " verdictsSent=" + c.verdictsSent()
                            + " defaults=" + c.totalDefaultVerdicts() + " kernelErrors=" + c.kernelErrors()
                            + " receiveBufferDrops=" + c.receiveBufferDrops() + " unresolved=" + c.unresolved()
                            + " resumed=" + resumed.get() + " heapAfterGc=" + heapAfterGc + " counters=" + c);
                    System.exit(0);
                    break;
                }
                default:
                    System.out.println("UNKNOWN " + line);
            }
        }
        running.dispose();
    }

    private static void handle(Packet p, long spinNanos, AtomicLong resumed) {
        if (UdpPackets.udpText(p.payloadBytes()).startsWith("resume-")) {
            resumed.incrementAndGet();
        }
        long end = System.nanoTime() + spinNanos;
        while (System.nanoTime() < end) {
            Thread.onSpinWait();
        }
        p.accept();
    }

    /** Memory at one instant, in KiB. */
    private record Sample(long rss, long hwm, long heap, long direct, long nmt, long nmtNonHeap) {
        static Sample take(boolean withNmt) {
            long[] nmt = withNmt ? ProcessMemory.nmtCommittedKiB() : new long[] {-1, -1};
            return new Sample(ProcessMemory.rssKiB(), ProcessMemory.peakRssKiB(), ProcessMemory.heapUsedKiB(),
                    ProcessMemory.directKiB(), nmt[0], nmt[1]);
        }

        Sample max(Sample o) {
            return new Sample(Math.max(rss, o.rss), Math.max(hwm, o.hwm), Math.max(heap, o.heap),
                    Math.max(direct, o.direct), Math.max(nmt, o.nmt), Math.max(nmtNonHeap, o.nmtNonHeap));
        }

        @Override
        public String toString() {
            return "rss=" + rss + " hwm=" + hwm + " heap=" + heap + " direct=" + direct + " nmt=" + nmt
                    + " nmtNonHeap=" + nmtNonHeap;
        }
    }

    /** Samples every 20 ms (NMT every 200 ms) on its own thread, keeping the peaks. */
    private static final class Sampler extends Thread {
        private volatile boolean stop;
        private Sample peak;
        private int samples;

        Sampler(Sample base) {
            super("memory-sampler");
            setDaemon(true);
            // VmHWM was reset after the base was taken: the base's value is the start-up peak.
            this.peak = new Sample(base.rss(), 0, base.heap(), base.direct(), base.nmt(), base.nmtNonHeap());
        }

        @Override
        public void run() {
            try {
                while (!stop) {
                    Sample s = Sample.take(samples % 10 == 0);
                    synchronized (this) {
                        peak = peak.max(s);
                        samples++;
                    }
                    Thread.sleep(20);
                }
            } catch (Exception e) {
                System.out.println("SAMPLER FAILED " + e);
            }
        }

        String finish() throws Exception {
            stop = true;
            join(5_000);
            Sample last = Sample.take(true);
            synchronized (this) {
                peak = peak.max(last);
                return peak + " samples=" + (samples + 1);
            }
        }
    }
}
