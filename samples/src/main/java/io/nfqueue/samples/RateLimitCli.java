package io.nfqueue.samples;

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
import reactor.core.publisher.Flux;

import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.function.UnaryOperator;

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
        run(common.queue, common.netns, common.warmUp, new RateLimiter(rate, burst, m, System::nanoTime), common.interval,
                common.duration, out);
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
     * every interval and once at the end, after a warm-up over {@code warmUp} synthetic packets
     * (0: none). The banner is printed once the queue is bound, so a queue another program owns is
     * an error without a banner before it.
     */
    static void run(int queue, Path netns, int warmUp, RateLimiter limiter, Duration interval, Duration duration,
                    PrintStream out) throws InterruptedException {
        // Verdict.accept() as in receiverOptions: a limiter that stops must not cut traffic.
        ReceiverRun.run("ratelimit", queue, netns, UnaryOperator.identity(), warmUp, Verdict.accept(),
                receiver -> limit(receiver, limiter), limiter::report, limiter::report, interval, duration, out);
    }
}
