package io.nfqueue.samples;

import io.nfqueue.QueueOptions;
import io.nfqueue.Verdict;
import io.nfqueue.reactor.PacketReceiver;
import io.nfqueue.reactor.ReceiverOptions;
import org.reactivestreams.Publisher;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;

import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;

/**
 * The long-running commands built on a Reactor {@link PacketReceiver} (firewall, dns-block,
 * ratelimit): bind the queue (after the privilege and --netns checks), print a banner once bound,
 * run until --duration or Ctrl-C/SIGTERM, print the counters every --interval and once at the end,
 * also on a signal ({@link FinalReport}). A bind or pipeline failure is rethrown.
 */
final class ReceiverRun {
    private ReceiverRun() {
    }

    /** The receiver's warm-up over {@code packets} synthetic packets (none when 0), and a line saying so. */
    static void warmUp(String command, PacketReceiver receiver, int packets, PrintStream out) {
        if (packets > 0) {
            Duration took = receiver.warmUp(packets).block();
            out.println(command + ": warmed up on " + packets + " synthetic packets in " + took.toMillis() + " ms");
        }
    }

    /**
     * Runs {@code start} (which subscribes the receiver's packets to a pipeline) on queue {@code queue}.
     *
     * @param command        the command's name, for the banner and the signal hook
     * @param defaultVerdict for packets the pipeline leaves without one (and at the end)
     * @param start          what the receiver runs, e.g. {@code r -> r.receive(pipeline)}
     * @param banner         printed after "COMMAND on queue N: " once the queue is bound
     * @param report         the counters
     */
    static void run(String command, int queue, Path netns, Verdict defaultVerdict,
                    Function<PacketReceiver, ? extends Publisher<?>> start, Supplier<String> banner, Supplier<String> report,
                    Duration interval, Duration duration, PrintStream out) throws InterruptedException {
        run(command, queue, netns, UnaryOperator.identity(), 0, defaultVerdict, start, banner, report, interval, duration, out);
    }

    /**
     * As above, with {@code tune} applied to the queue's options (e.g. {@code o -> o.flowOffload(f)})
     * and, when {@code warmUp} is positive, the receiver's warm-up over that many synthetic packets
     * first (with Packet::accept, not the command's pipeline: that one counts what it sees).
     */
    static void run(String command, int queue, Path netns, UnaryOperator<QueueOptions> tune, int warmUp,
                    Verdict defaultVerdict, Function<PacketReceiver, ? extends Publisher<?>> start, Supplier<String> banner,
                    Supplier<String> report, Duration interval, Duration duration, PrintStream out) throws InterruptedException {
        QueueOptions checked = Samples.requireAndApply(QueueOptions.queue(queue), netns);
        CountDownLatch bound = new CountDownLatch(1);
        PacketReceiver receiver = PacketReceiver.create(ReceiverOptions.queue(queue)
                .defaultVerdict(defaultVerdict)
                .queueOptions(o -> tune.apply(checked.networkNamespace().map(o::networkNamespace).orElse(o)))
                .doOnBound(b -> bound.countDown()));
        warmUp(command, receiver, warmUp, out);
        CountDownLatch done = new CountDownLatch(1);
        Throwable[] failure = {null};
        Disposable running = Flux.from(start.apply(receiver))
                .subscribe(p -> { }, e -> {
                    failure[0] = e;
                    done.countDown();
                }, done::countDown);
        Runnable stop = () -> {
            running.dispose();
            done.countDown();
        };
        try (FinalReport last = new FinalReport(command, stop, () -> out.println(report.get()))) {
            try {
                // Bound, failed, or stopped by a signal: whichever comes first (bounded: the bind takes milliseconds).
                long waitUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (!bound.await(50, TimeUnit.MILLISECONDS) && done.getCount() > 0 && System.nanoTime() < waitUntil) {
                    Thread.onSpinWait();
                }
                if (bound.getCount() == 0 && done.getCount() > 0) {
                    out.println(command + " on queue " + queue + (netns == null ? "" : " in " + netns) + ": " + banner.get());
                }
                long end = duration == null ? Long.MAX_VALUE : System.nanoTime() + duration.toNanos();
                while (!done.await(Math.min(interval.toMillis(), Math.max(1, (end - System.nanoTime()) / 1_000_000)),
                        TimeUnit.MILLISECONDS)) {
                    if (System.nanoTime() - end >= 0) {
                        break;
                    }
                    out.println(report.get());
                }
            } finally {
                running.dispose();
            }
            if (failure[0] instanceof RuntimeException e) {
                throw e;
            } else if (failure[0] != null) {
                throw new IllegalStateException(failure[0].toString(), failure[0]);
            }
            last.print();
        }
    }
}
