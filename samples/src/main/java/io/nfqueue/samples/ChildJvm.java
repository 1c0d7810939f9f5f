package io.nfqueue.samples;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A child JVM running one of the demo's traffic programs inside a namespace
 * ({@code ip netns exec NAME java -cp <this jar> MAIN ARGS}), so that its sockets live there.
 * Its output is kept, not shown (it would break the live display), and parsed for the result
 * lines; {@link #closeInput()} is the demo's "you are done" signal; {@link #close()} stops it.
 */
final class ChildJvm implements AutoCloseable {
    private final Process process;
    private final String name;
    private final List<String> lines = new ArrayList<>();
    private final Thread reader;

    private ChildJvm(Process process, String name) {
        this.process = process;
        this.name = name;
        this.reader = new Thread(this::read, "nfq-demo-" + name + "-output");
        this.reader.setDaemon(true);
        this.reader.start();
    }

    /** Starts {@code main} with {@code args} inside {@code ns}; stdout and stderr are merged. */
    static ChildJvm start(String name, DemoNamespace ns, Class<?> main, List<String> args) {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        // setsid: a new session, so a Ctrl-C typed at the terminal (sent to the whole foreground
        // process group) reaches the demo only; the demo ends its children itself, in order.
        List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", ns.name(), "setsid", java,
                // Small and quick to start: these programs only move datagrams.
                "-Xmx64m", "-XX:TieredStopAtLevel=1", "-XX:-UsePerfData", "-cp", classPath(), main.getName()));
        command.addAll(args);
        try {
            return new ChildJvm(new ProcessBuilder(command).redirectErrorStream(true).start(), name);
        } catch (IOException e) {
            throw new IllegalStateException("cannot start the " + name + ": " + e.getMessage(), e);
        }
    }

    /** Where this class was loaded from: the samples jar, or a classes folder in a build. */
    private static String classPath() {
        try {
            return Path.of(ChildJvm.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        } catch (URISyntaxException | RuntimeException e) {
            return System.getProperty("java.class.path");
        }
    }

    private void read() {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(),
                StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                synchronized (lines) {
                    lines.add(line);
                    lines.notifyAll();
                }
            }
        } catch (IOException e) {
            // The process was stopped: its output ends here.
        }
    }

    /**
     * Waits up to {@code timeout} for a line starting with {@code prefix}; throws, with the
     * child's output, if it exits or the time passes first.
     */
    void awaitLine(String prefix, Duration timeout) throws InterruptedException {
        long end = System.nanoTime() + timeout.toNanos();
        synchronized (lines) {
            while (lines.stream().noneMatch(l -> l.startsWith(prefix))) {
                long left = end - System.nanoTime();
                if (left <= 0 || (!process.isAlive() && !reader.isAlive())) {
                    throw new IllegalStateException("the " + name + " did not start"
                            + (process.isAlive() ? " within " + timeout.toSeconds() + " s" : "")
                            + ": " + String.join(" | ", lines));
                }
                lines.wait(Math.max(1, Math.min(left / 1_000_000, 100)));
            }
        }
    }

    boolean isAlive() {
        return process.isAlive();
    }

    /** Closes the child's standard input: the traffic programs take it as "stop". */
    void closeInput() {
        try {
            process.getOutputStream().close();
        } catch (IOException e) {
            // Already gone.
        }
    }

    /** Waits up to {@code timeout} for the child to exit and its output to end; true if it did. */
    boolean awaitExit(Duration timeout) throws InterruptedException {
        boolean exited = process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        reader.join(exited ? 2000 : 1);
        return exited;
    }

    /** The counts of the lines {@code "<word>KEY N"}, by KEY, in the order printed. */
    Map<String, Long> counts(String word) {
        Map<String, Long> all = new LinkedHashMap<>();
        synchronized (lines) {
            for (String l : lines) {
                if (l.startsWith(word)) {
                    String[] kv = l.substring(word.length()).trim().split("\\s+");
                    if (kv.length == 2) {
                        try {
                            all.put(kv[0], Long.parseLong(kv[1]));
                        } catch (NumberFormatException e) {
                            // not a result line
                        }
                    }
                }
            }
        }
        return all;
    }

    /** Everything the child printed, for error messages. */
    String output() {
        synchronized (lines) {
            return String.join("\n", lines);
        }
    }

    /** Stops the child if it is still running (SIGTERM, then SIGKILL after 2 s). */
    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroy();
            try {
                if (!process.waitFor(2, TimeUnit.SECONDS)) {
                    // SIGKILL, and wait for it too: the demo then removes the namespace the child
                    // lives in, and says everything is gone.
                    process.destroyForcibly().waitFor(2, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
    }
}
