package io.nfqueue.testing;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A child process (often a JVM running a test main class behind a prefix command such as
 * {@code ip netns exec NS setpriv --reuid=65534 ...}) whose output lines the test waits for
 * with a bound. {@link #close()} kills it (and what it started) and waits for it to end.
 */
public final class ChildProcess implements AutoCloseable {
    private final Process process;
    private final LinkedBlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final List<String> transcript = Collections.synchronizedList(new ArrayList<>());
    private final String description;

    private ChildProcess(Process process, String description) {
        this.process = process;
        this.description = description;
        Thread reader = new Thread(this::pump, "child-output-" + process.pid());
        reader.setDaemon(true);
        reader.start();
    }

    /**
     * Starts {@code prefix... java -cp classpath mainClass args...}; stdout and stderr are merged.
     * The child's stdin stays open: children here exit when it closes, so none outlives us.
     */
    public static ChildProcess java(List<String> prefix, String classpath, Class<?> mainClass, String... args) {
        List<String> cmd = new ArrayList<>(prefix);
        cmd.add(javaBinary());
        // No shared perf data file (an unprivileged child cannot write root's /tmp/hsperfdata_root).
        cmd.add("-XX:-UsePerfData");
        cmd.add(ENABLE_NATIVE_ACCESS);
        cmd.add("-cp");
        cmd.add(classpath);
        cmd.add(mainClass.getName());
        Collections.addAll(cmd, args);
        return start(cmd);
    }

    /** Starts {@code command}; stdout and stderr are merged; stdin stays open until {@link #close()}. */
    public static ChildProcess start(List<String> cmd) {
        try {
            // Run from "/": an unprivileged child may not be allowed into the build directory.
            Process p = new ProcessBuilder(cmd).directory(new File("/")).redirectErrorStream(true).start();
            return new ChildProcess(p, String.join(" ", cmd));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + cmd, e);
        }
    }

    /**
     * Children load the shim from the class path: without this, JDK 24+ prints a restricted-method
     * warning (JEP 472) into their output. JDK 17 accepts the option too.
     */
    public static final String ENABLE_NATIVE_ACCESS = "--enable-native-access=ALL-UNNAMED";

    /**
     * The java binary of this JVM, or the one {@code -Dnfqueue.test.javaBinary} names: the aarch64
     * check runs tests under qemu-user, where this process's command is the emulated binary,
     * which the host cannot start without the emulator.
     */
    public static String javaBinary() {
        String configured = System.getProperty("nfqueue.test.javaBinary", "");
        if (!configured.isEmpty()) {
            return configured;
        }
        return ProcessHandle.current().info().command()
                .orElseGet(() -> Path.of(System.getProperty("java.home"), "bin", "java").toString());
    }

    /** This JVM's class path (the test's: main classes, test classes, the native jar). */
    public static String testClassPath() {
        return System.getProperty("java.class.path");
    }

    /** The directory or jar holding {@code c}: a class path with just the test classes. */
    public static String classPathOf(Class<?> c) {
        try {
            return Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        } catch (Exception e) {
            throw new IllegalStateException("cannot locate the classes of " + c, e);
        }
    }

    private void pump() {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                transcript.add(line);
                lines.add(line);
            }
        } catch (IOException ignored) {
            // The child was killed: its output ends here.
        }
    }

    /** Waits up to {@code timeout} for an output line starting with {@code prefix}; throws with the transcript. */
    public String awaitLine(String prefix, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            while (true) {
                long left = deadline - System.nanoTime();
                String line = left > 0 ? lines.poll(left, TimeUnit.NANOSECONDS) : null;
                if (line == null) {
                    throw new IllegalStateException("child printed no line starting with '" + prefix + "' within "
                            + timeout + (process.isAlive() ? "" : " (exited " + process.exitValue() + ")")
                            + "\ncommand: " + description + "\noutput:\n" + transcriptText());
                }
                if (line.startsWith(prefix)) {
                    return line;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted waiting for the child", e);
        }
    }

    /** Waits up to {@code timeout} for the child to exit; returns its exit code, or throws with the transcript. */
    public int awaitExit(Duration timeout) {
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new IllegalStateException("child still running after " + timeout + "\ncommand: " + description
                        + "\noutput:\n" + transcriptText());
            }
            return process.exitValue();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted waiting for the child", e);
        }
    }

    /** Writes one line to the child's stdin (for children that take commands). */
    public void writeLine(String line) {
        try {
            OutputStream in = process.getOutputStream();
            in.write((line + "\n").getBytes(StandardCharsets.UTF_8));
            in.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write to the child: " + description + "\noutput:\n" + transcriptText(), e);
        }
    }

    /** The pid of the process this class started (with a prefix command, that command's pid). */
    public long pid() {
        return process.pid();
    }

    public String transcriptText() {
        synchronized (transcript) {
            return String.join("\n", transcript);
        }
    }

    /** Kills the child and everything it started, and waits (bounded) for them to end. */
    @Override
    public void close() {
        List<ProcessHandle> all = new ArrayList<>();
        process.descendants().forEach(all::add);
        all.add(process.toHandle());
        for (ProcessHandle h : all) {
            h.destroyForcibly();
        }
        for (ProcessHandle h : all) {
            try {
                h.onExit().get(10, TimeUnit.SECONDS);
            } catch (Exception ignored) {
                // Bounded: a child that will not die is reported by the test that needed it gone.
            }
        }
    }
}
