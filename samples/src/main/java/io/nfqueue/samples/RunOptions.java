package io.nfqueue.samples;

import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine;

import java.nio.file.Path;
import java.time.Duration;

/**
 * The options every long-running command shares (a picocli mixin): which queue, in which
 * namespace, for how long, how often to print its counters, how many packets to warm up on.
 */
final class RunOptions {
    @Option(names = "--queue", required = true, paramLabel = "N", description = "queue number, 0..65535")
    int queue;
    @Option(names = "--interval", paramLabel = "TIME", defaultValue = "5s",
            description = {"how often to print the counters (default: ${DEFAULT-VALUE}); " + Main.TIME_FORMAT})
    Duration interval;
    @Option(names = "--duration", paramLabel = "TIME",
            description = "stop after this long, e.g. 30s or 10m (default: Ctrl-C or SIGTERM)")
    Duration duration;
    @Option(names = "--netns", paramLabel = "PATH",
            description = "bind in this network namespace, e.g. /var/run/netns/NAME")
    Path netns;
    @Option(names = "--warm-up", paramLabel = "N", defaultValue = "0",
            description = "before binding, run the receive path over N synthetic packets (no queue bound, "
                    + "nothing sent), so the JIT has compiled it before the first real packet; 600000 is "
                    + "plenty (default: ${DEFAULT-VALUE}, none)")
    int warmUp;

    /** Checks what picocli cannot: the queue range and a sensible interval. */
    void check(CommandLine cl) {
        Main.checkQueue(cl, queue);
        if (warmUp < 0) {
            throw new ParameterException(cl, "--warm-up must not be negative: " + warmUp);
        }
        if (interval.compareTo(Duration.ofMillis(100)) < 0) {
            throw new ParameterException(cl, "--interval must be at least 100ms");
        }
    }

    /** " in PATH" when a namespace was given, else "". */
    String where() {
        return netns == null ? "" : " in " + netns;
    }
}
