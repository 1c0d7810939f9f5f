package io.nfqueue.samples;

import io.nfqueue.NfQueueException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine;

import java.io.Console;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;

/**
 * The samples' command line (picocli):
 * <pre>
 * java -jar nfqueue-samples.jar print --queue N [--netns PATH] [--count N]
 * java -jar nfqueue-samples.jar demo [--duration 10s]
 * java -jar nfqueue-samples.jar firewall --queue N --rules FILE [--default accept|drop] [--interval 5s]
 * java -jar nfqueue-samples.jar ratelimit --queue N --rate R --burst B [--mark 0xNN]
 * java -jar nfqueue-samples.jar dns-block --queue N --blocklist FILE
 * java -jar nfqueue-samples.jar rewrite --queue N --from STR --to STR
 * java -jar nfqueue-samples.jar stats --queue N [--netns PATH] [--read-only] [--demand N] [--interval 1s] [--count N]
 * java -jar nfqueue-samples.jar rules --flow-offload --queue N [--hook HOOK] [--mask 0xM] [--mode accept|repeat] [--nft]
 *                                      [--bypass] [--connmark-by-verdict] [--install|--remove [--netns PATH]]
 * java -jar nfqueue-samples.jar replay --pcap FILE [--speed max|recorded|F] [--hook HOOK] [--out FILE] firewall|dns-block ...
 * </pre>
 * Exit status 0 on success, 1 when the command failed (including a missing privilege), 2 for a
 * bad command line. Errors are one line on stderr, not a stack trace.
 */
@Command(name = "nfqueue-samples", mixinStandardHelpOptions = true, version = "nfqueue-samples 0.1.0",
        description = "Runnable NFQUEUE programs. Those that bind a queue need root (CAP_NET_ADMIN; the demo and --netns also "
                + "CAP_SYS_ADMIN). Run 'COMMAND --help' for a command's options and the rule that feeds it.",
        subcommands = {Main.PrintCli.class, Main.DemoCli.class, FirewallCli.class, RateLimitCli.class,
                DnsBlockCli.class, RewriteCli.class, StatsCli.class, ReplayCli.class, RulesCli.class,
                CommandLine.HelpCommand.class})
public final class Main implements Callable<Integer> {
    static final int EXIT_FAILED = 1;
    static final int EXIT_USAGE = 2;

    @Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    @Override
    public Integer call() {
        throw new ParameterException(spec.commandLine(), "a command is required (print, demo, firewall, ...)");
    }

    /** Parses and runs {@code args}; returns the exit status. */
    static int run(String[] args, PrintStream out, PrintStream err) {
        CommandLine cl = new CommandLine(new Main(), new Factory(out));
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        cl.registerConverter(Duration.class, Main::duration);
        cl.setUsageHelpWidth(110);
        // One style for every error: "error: COMMAND: what went wrong", one line; a bad command line
        // (status 2) adds a line pointing to --help.
        cl.setParameterExceptionHandler((e, a) -> {
            err.println(errorLine(commandPath(e.getCommandLine()), e.getMessage()));
            err.println("run with --help for usage");
            return EXIT_USAGE;
        });
        cl.setExecutionExceptionHandler((e, c, p) -> {
            String what = commandPath(c);
            if (e instanceof UsageException) {
                err.println(errorLine(what, e.getMessage()));
                err.println("run with --help for usage");
                return EXIT_USAGE;
            }
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
                err.println(errorLine(what, "interrupted"));
            } else if (e instanceof Privileges.MissingRootException || e instanceof NfQueueException
                    || e instanceof IllegalArgumentException || e instanceof IllegalStateException
                    || e instanceof UncheckedIOException) {
                err.println(errorLine(what, e.getMessage()));
            } else {
                err.println(errorLine(what, e.toString()));
            }
            return EXIT_FAILED;
        });
        return cl.execute(args);
    }

    /** The command's name after the program's: "firewall", or "replay firewall" for a subcommand's. */
    static String commandPath(CommandLine cl) {
        String root = cl.getCommandSpec().root().name();
        String path = cl.getCommandSpec().qualifiedName(" ");
        return path.equals(root) ? root : path.substring(root.length() + 1);
    }

    /** "error: COMMAND: message" (just "error: message" for the top level): the one form of every error line. */
    static String errorLine(String command, String message) {
        return "error: " + (command.equals("nfqueue-samples") ? "" : command + ": ") + message;
    }

    /** How TIME options are written, for their --help. */
    static final String TIME_FORMAT = "TIME is a number with ms, s or m (500ms, 10s, 2m), or a plain number of seconds";

    /** "1 rule", "2 rules": a count and its noun, singular or plural. */
    static String count(long n, String singular) {
        return n + " " + (n == 1 ? singular : singular + "s");
    }

    /** "10s", "500ms", "2m" or a plain number of seconds. */
    static Duration duration(String text) {
        Duration d = parseDuration(text);
        if (d == null || d.isNegative()) {
            throw new CommandLine.TypeConversionException("must look like 500ms, 10s, 2m or a plain number of seconds: '"
                    + text + "'");
        }
        return d;
    }

    /** "10s", "500ms", "2m" or a plain number of seconds; null when it is none of those. */
    static Duration parseDuration(String text) {
        String t = text.trim();
        try {
            if (t.endsWith("ms")) {
                return Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2)));
            }
            if (t.endsWith("s")) {
                return Duration.ofSeconds(Long.parseLong(t.substring(0, t.length() - 1)));
            }
            if (t.endsWith("m")) {
                return Duration.ofMinutes(Long.parseLong(t.substring(0, t.length() - 1)));
            }
            return Duration.ofSeconds(Long.parseLong(t));
        } catch (NumberFormatException e) {
            return null;
        }
    }

    static int checkQueue(CommandLine cl, int queue) {
        if (queue < 0 || queue > 65535) {
            throw new ParameterException(cl, "--queue must be 0..65535: " + queue);
        }
        return queue;
    }

    /** A 32-bit mark, 0x-hex or decimal. */
    static int parseMark(CommandLine cl, String option, String text) {
        try {
            String t = text.trim();
            long m = t.startsWith("0x") || t.startsWith("0X") ? Long.parseLong(t.substring(2), 16) : Long.parseLong(t);
            if (m >= 0 && m <= 0xFFFFFFFFL) {
                return (int) m;
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw new ParameterException(cl, option + " must be a 32-bit number like 0x10: " + text);
    }

    /** Gives each command the output stream {@link #run} was given. */
    private record Factory(PrintStream out) implements CommandLine.IFactory {
        @Override
        public <K> K create(Class<K> cls) throws Exception {
            for (var c : cls.getDeclaredConstructors()) {
                if (c.getParameterCount() == 1 && c.getParameterTypes()[0] == PrintStream.class) {
                    c.setAccessible(true);
                    return cls.cast(c.newInstance(out));
                }
            }
            return CommandLine.defaultFactory().create(cls);
        }
    }

    @Command(name = "print", mixinStandardHelpOptions = true,
            description = "Bind queue N, print one line per packet and accept it, until --count packets or Ctrl-C.",
            footerHeading = "%nFeed it with:%n",
            footer = {"  iptables -A OUTPUT -p udp --dport 9999 -j NFQUEUE --queue-num N --queue-bypass",
                "  nft add rule inet filter output udp dport 9999 queue num N bypass",
                "  (nft's queue statement needs a kernel with CONFIG_NFT_QUEUE; iptables' NFQUEUE target does not)",
                "Needs root (CAP_NET_ADMIN; --netns also CAP_SYS_ADMIN)."})
    static final class PrintCli implements Callable<Integer> {
        private final PrintStream out;
        @Spec
        CommandLine.Model.CommandSpec spec;
        @Option(names = "--queue", required = true, paramLabel = "N", description = "queue number, 0..65535")
        int queue;
        @Option(names = "--netns", paramLabel = "PATH",
                description = "bind in this network namespace, e.g. /var/run/netns/NAME")
        Path netns;
        @Option(names = "--count", paramLabel = "N", description = "stop after N packets (default: Ctrl-C)")
        Integer count;

        PrintCli(PrintStream out) {
            this.out = out;
        }

        @Override
        public Integer call() {
            checkQueue(spec.commandLine(), queue);
            if (count != null && count < 1) {
                throw new ParameterException(spec.commandLine(), "--count must be at least 1: " + count);
            }
            PrintCommand.run(queue, netns, count == null ? Long.MAX_VALUE : count, out);
            return 0;
        }
    }

    @Command(name = "demo", mixinStandardHelpOptions = true,
            description = {"A self-contained demo: makes a client and a server network namespace joined by a veth "
                + "pair, queues the server's incoming UDP, runs the firewall (three rules) and then the per-source rate "
                + "limiter on every packet while the client sends from four addresses (one of them too fast), shows "
                + "live counters every second and a summary, then removes everything it made (also on failure and "
                + "on Ctrl-C). Nothing is added to the host's own network namespace."},
            footerHeading = "%nThe rule it adds inside its server namespace:%n",
            footer = {"  iptables " + DemoScenario.QUEUE_RULE,
                "  (the nft equivalent, '" + DemoScenario.NFT_QUEUE_RULE + "',",
                "  needs a kernel with CONFIG_NFT_QUEUE, so the demo uses iptables)",
                "Needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN)."})
    static final class DemoCli implements Callable<Integer> {
        private final PrintStream out;
        @Spec
        CommandLine.Model.CommandSpec spec;
        @Option(names = "--duration", paramLabel = "TIME", defaultValue = "10s",
                description = {"how long the client sends, 1s..10m (default: ${DEFAULT-VALUE}); " + TIME_FORMAT})
        Duration duration;
        @Option(names = "--flow-offload", description = {"decide each connection on its first packet (acceptFlow/dropFlow) "
                + "with the flow offload rules instead of the queue rule, no rate limiter; the display shows packets "
                + "that reached the queue against those the flows' rules passed or dropped without it"})
        boolean flowOffload;

        DemoCli(PrintStream out) {
            this.out = out;
        }

        @Override
        public Integer call() throws InterruptedException {
            if (duration.compareTo(Duration.ofSeconds(1)) < 0 || duration.compareTo(Duration.ofMinutes(10)) > 0) {
                throw new ParameterException(spec.commandLine(), "--duration must be between 1s and 600s: "
                        + duration.toSeconds() + "s");
            }
            // Redraw in place only on a terminal; a pipe or a file gets one block per refresh.
            boolean ansi = out == System.out && stdoutIsTerminal();
            Demo.run(duration, ansi, out, flowOffload);
            return 0;
        }
    }

    /**
     * Whether standard output is a terminal. Up to JDK 21 that is {@code System.console() != null};
     * from JDK 22 a console exists even when output is piped, and {@code Console.isTerminal()} says.
     */
    static boolean stdoutIsTerminal() {
        Console console = System.console();
        if (console == null) {
            return false;
        }
        try {
            return (Boolean) Console.class.getMethod("isTerminal").invoke(console);
        } catch (NoSuchMethodException beforeJdk22) {
            return true;
        } catch (ReflectiveOperationException | RuntimeException e) {
            return false;
        }
    }
}
