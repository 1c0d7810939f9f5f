package io.nfqueue.samples;

import io.nfqueue.NfQueueException;

import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * The samples' command line:
 * <pre>
 * java -jar nfqueue-samples.jar print --queue N [--netns PATH] [--count N]
 * java -jar nfqueue-samples.jar demo [--duration 10s]
 * </pre>
 * Exit status 0 on success, 1 when the command failed, 2 for a bad command line. Errors are
 * one line on stderr, not a stack trace.
 */
public final class Main {
    private static final String USAGE = String.join("\n",
            "usage: java -jar nfqueue-samples.jar COMMAND [OPTIONS]",
            "",
            "commands:",
            "  print --queue N [--netns PATH] [--count N]",
            "      bind queue N (0..65535), print one line per packet and accept it,",
            "      until N packets (--count) or Ctrl-C; --netns binds in another network",
            "      namespace, e.g. /var/run/netns/NAME. Feed it with e.g.",
            "      iptables -A OUTPUT -p udp --dport 9999 -j NFQUEUE --queue-num N --queue-bypass",
            "  demo [--duration 10s]",
            "      a self-contained demo: makes its own network namespace, queue rule and",
            "      UDP traffic there, prints each packet and its verdict, then removes it all.",
            "",
            "Both need root (CAP_NET_ADMIN; the demo and --netns also CAP_SYS_ADMIN).");

    private Main() {
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length == 0 || Set.of("-h", "--help", "help").contains(args[0])) {
            (args.length == 0 ? err : out).println(USAGE);
            return args.length == 0 ? 2 : 0;
        }
        String command = args[0];
        List<String> rest = Arrays.asList(args).subList(1, args.length);
        try {
            switch (command) {
                case "print" -> print(Args.parse("print", rest, Set.of("queue", "netns", "count")), out);
                case "demo" -> demo(Args.parse("demo", rest, Set.of("duration")), out);
                default -> throw new UsageException("unknown command '" + command + "'");
            }
            return 0;
        } catch (UsageException e) {
            err.println("error: " + e.getMessage());
            err.println("run with --help for usage");
            return 2;
        } catch (Privileges.MissingRootException e) {
            err.println(e.getMessage());
            return 1;
        } catch (NfQueueException e) {
            err.println(command + ": " + e.getMessage());
            return 1;
        } catch (IllegalArgumentException | IllegalStateException e) {
            err.println(command + " failed: " + e.getMessage());
            return 1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            err.println(command + ": interrupted");
            return 1;
        }
    }

    private static void print(Args a, PrintStream out) {
        int queue = a.integer("queue", 0, 65535);
        Path netns = a.has("netns") ? Path.of(a.string("netns")) : null;
        long count = a.has("count") ? a.integer("count", 1, Integer.MAX_VALUE) : Long.MAX_VALUE;
        PrintCommand.run(queue, netns, count, out);
    }

    private static void demo(Args a, PrintStream out) throws InterruptedException {
        Duration duration = a.duration("duration", Duration.ofSeconds(10), Duration.ofSeconds(1),
                Duration.ofMinutes(10));
        Demo.run(duration, out);
    }
}
