package io.nfqueue.samples;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The demo's traffic: a child JVM running {@link UdpTrafficGenerator} inside the namespace
 * ({@code ip netns exec NAME java -cp <this jar> ...}), so that its sockets live there. Its
 * output is copied, prefixed, to the demo's output; its result line says how many datagrams
 * arrived.
 */
final class TrafficProcess implements AutoCloseable {
    private static final Pattern RESULT = Pattern.compile("sent (\\d+) datagrams to .*, (\\d+) arrived");

    private final Process process;
    private final Thread copier;
    private volatile int sent = -1;
    private volatile int arrived = -1;

    private TrafficProcess(Process process, PrintStream out) {
        this.process = process;
        this.copier = new Thread(() -> copy(out), "nfq-demo-traffic-output");
        this.copier.setDaemon(true);
        this.copier.start();
    }

    /** Starts sending {@code count} datagrams at {@code rate} per second to host:port inside {@code ns}. */
    static TrafficProcess start(DemoNamespace ns, String host, int port, int count, int rate, PrintStream out) {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = List.of("ip", "netns", "exec", ns.name(), java,
                "-Xmx64m", "-XX:TieredStopAtLevel=1", "-cp", classPath(),
                UdpTrafficGenerator.class.getName(), host, Integer.toString(port), Integer.toString(count),
                Integer.toString(rate));
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            p.getOutputStream().close();
            return new TrafficProcess(p, out);
        } catch (IOException e) {
            throw new IllegalStateException("cannot start the traffic generator: " + e.getMessage(), e);
        }
    }

    /** Where this class was loaded from: the samples jar, or a classes folder in a build. */
    private static String classPath() {
        try {
            return Path.of(UdpTrafficGenerator.class.getProtectionDomain().getCodeSource().getLocation().toURI())
                    .toString();
        } catch (URISyntaxException | RuntimeException e) {
            return System.getProperty("java.class.path");
        }
    }

    private void copy(PrintStream out) {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(),
                StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                Matcher m = RESULT.matcher(line);
                if (m.find()) {
                    sent = Integer.parseInt(m.group(1));
                    arrived = Integer.parseInt(m.group(2));
                }
                out.println("  traffic | " + line);
            }
        } catch (IOException e) {
            // The process was stopped: its output ends here.
        }
    }

    boolean isAlive() {
        return process.isAlive();
    }

    /** How many datagrams the generator sent, once it has said so. */
    OptionalInt sent() {
        return sent < 0 ? OptionalInt.empty() : OptionalInt.of(sent);
    }

    /** How many datagrams reached the generator's socket, once it has said so. */
    OptionalInt arrived() {
        return arrived < 0 ? OptionalInt.empty() : OptionalInt.of(arrived);
    }

    /** Waits for the generator's output to end (it has exited), at most {@code millis}. */
    void awaitOutput(long millis) throws InterruptedException {
        copier.join(millis);
    }

    /** Stops the generator if it is still running. */
    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroy();
            try {
                if (!process.waitFor(2, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                }
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
    }
}
