package io.nfqueue.samples;

import io.nfqueue.QueueOptions;
import io.nfqueue.Verdict;
import io.nfqueue.reactor.PacketReceiver;
import io.nfqueue.reactor.ProcessedPacket;
import io.nfqueue.reactor.ReceiverOptions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;

import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

@Command(name = "ratelimit", mixinStandardHelpOptions = true,
        description = {"Limit each source address to --rate packets per second after a burst of --burst, with a "
                + "token bucket per source, on a Reactor PacketReceiver. The excess is dropped, or accepted with "
                + "--mark for a later rule to act on."},
        footerHeading = "%nFeed it with, e.g.:%n",
        footer = {"  iptables -A INPUT -p udp --dport 9999 -j NFQUEUE --queue-num N --queue-bypass",
            "  nft add rule inet filter input udp dport 9999 queue num N bypass",
            "  (nft's queue statement needs a kernel with CONFIG_NFT_QUEUE; iptables' NFQUEUE target does not)",
            "Needs root (CAP_NET_ADMIN; --netns also CAP_SYS_ADMIN)."})
final class RateLimitCli implements Callable<Integer> {
    private final PrintStream out;
    @Spec
    CommandLine.Model.CommandSpec spec;
    @Mixin
    RunOptions common;
    @Option(names = "--rate", required = true, paramLabel = "R", description = "packets per second per source")
    double rate;
    @Option(names = "--burst", required = true, paramLabel = "B", description = "bucket size, at least 1")
    int burst;
    @Option(names = "--mark", paramLabel = "0xNN", description = "accept the excess with this mark instead of dropping it")
    String mark;

    RateLimitCli(PrintStream out) {
        this.out = out;
    }

    @Override
    public Integer call() throws InterruptedException {
        CommandLine cl = spec.commandLine();
        common.check(cl);
        if (!(rate > 0) || rate > 1e9) {
            throw new ParameterException(cl, "--rate must be positive: " + rate);
        }
        if (burst < 1) {
            throw new ParameterException(cl, "--burst must be at least 1: " + burst);
        }
        Integer m = mark == null ? null : Main.parseMark(cl, "--mark", mark);
        run(common.queue, common.netns, new RateLimiter(rate, burst, m, System::nanoTime), common.interval, common.duration, out);
        return 0;
    }

    /**
     * How the rate limiter receives: packets it leaves without a verdict when it stops get
     * ACCEPT, so that stopping a limiter never cuts traffic.
     */
    static ReceiverOptions receiverOptions(int queue) {
        return ReceiverOptions.queue(queue).defaultVerdict(Verdict.accept());
    }

    /** The pipeline: each packet gets the limiter's verdict as it arrives. */
    static Flux<ProcessedPacket> limit(PacketReceiver receiver, RateLimiter limiter) {
        return receiver.process(limiter::decide);
    }

    /**
     * Limits the queue's packets until {@code duration} (null: Ctrl-C or SIGTERM), printing counters
     * every interval and once at the end. The banner is printed once the queue is bound, so a
     * queue another program owns is an error without a banner before it.
     */
    static void run(int queue, Path netns, RateLimiter limiter, Duration interval, Duration duration, PrintStream out)
            throws InterruptedException {
        QueueOptions checked = Samples.requireAndApply(QueueOptions.queue(queue), netns);
        CountDownLatch bound = new CountDownLatch(1);
        PacketReceiver receiver = PacketReceiver.create(receiverOptions(queue)
                .queueOptions(o -> checked.networkNamespace().map(o::networkNamespace).orElse(o))
                .doOnBound(b -> bound.countDown()));
        CountDownLatch done = new CountDownLatch(1);
        Throwable[] failure = {null};
        Disposable running = limit(receiver, limiter)
                .subscribe(p -> { }, e -> {
                    failure[0] = e;
                    done.countDown();
                }, done::countDown);
        Runnable stop = () -> {
            running.dispose();
            done.countDown();
        };
        try (FinalReport last = new FinalReport("ratelimit", stop, () -> out.println(limiter.report()))) {
            try {
                // Bound, failed, or stopped by a signal: whichever comes first (bounded: the bind takes milliseconds).
                long waitUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (!bound.await(50, TimeUnit.MILLISECONDS) && done.getCount() > 0 && System.nanoTime() < waitUntil) {
                    Thread.onSpinWait();
                }
                if (bound.getCount() == 0 && done.getCount() > 0) {
                    out.println("ratelimit on queue " + queue + (netns == null ? "" : " in " + netns) + ": "
                            + limiter.report());
                }
                long end = duration == null ? Long.MAX_VALUE : System.nanoTime() + duration.toNanos();
                while (!done.await(Math.min(interval.toMillis(), Math.max(1, (end - System.nanoTime()) / 1_000_000)),
                        TimeUnit.MILLISECONDS)) {
                    if (System.nanoTime() - end >= 0) {
                        break;
                    }
                    out.println(limiter.report());
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
