package io.nfqueue.samples;

import io.nfqueue.test.kernel.NetNamespace;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * tcpdump writing a capture file inside a test's network namespace: started and waited for until
 * it says it is listening, stopped with SIGTERM (it then flushes and exits), every wait bounded.
 */
final class Tcpdump implements AutoCloseable {
    private static final Duration START = Duration.ofSeconds(10);
    private static final Duration STOP = Duration.ofSeconds(10);

    private final Process process;
    /**
     * Where its standard error goes. A file rather than a pipe: when a process exits, the JDK
     * takes over the pipe's remaining bytes and a thread blocked reading it gets "Stream closed",
     * losing the counts tcpdump prints last.
     */
    private final Path stderr;
    private final Path file;

    private Tcpdump(Process process, Path stderr, Path file) {
        this.process = process;
        this.stderr = stderr;
        this.file = file;
    }

    /**
     * Captures on {@code ifname} in {@code ns} into {@code file} (classic pcap, whole packets,
     * written packet by packet) what {@code filter} selects.
     *
     * @throws AssertionError when tcpdump is not installed or does not start listening within 10 s
     */
    static Tcpdump start(NetNamespace ns, String ifname, Path file, String filter) throws InterruptedException {
        if (!onPath("tcpdump")) {
            throw new AssertionError("this test needs tcpdump (apt-get install tcpdump)");
        }
        // -Z root: stay root, so that the file can be written where the test wants it; -U: write each packet at once;
        // --immediate-mode: read each packet as it comes. Without it libpcap hands packets over a ring block at a
        // time (when full, or after its timeout), and a SIGTERM before that ends tcpdump with the block unread:
        // "52 packets received by filter", "0 packets captured", an empty file.
        List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", ns.name(), "tcpdump", "-i", ifname, "-w",
                file.toString(), "-U", "--immediate-mode", "-n", "-s", "0", "-Z", "root"));
        cmd.addAll(List.of(filter.split(" ")));
        Path err = file.resolveSibling(file.getFileName() + ".tcpdump-stderr");
        Process p;
        try {
            p = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(err.toFile()).start();
        } catch (IOException e) {
            throw new AssertionError("cannot start tcpdump: " + e, e);
        }
        Tcpdump t = new Tcpdump(p, err, file);
        long deadline = System.nanoTime() + START.toNanos();
        while (!t.stderr().contains("listening on")) {
            if (!p.isAlive() || System.nanoTime() - deadline >= 0) {
                t.close();
                throw new AssertionError("tcpdump did not start listening within " + START.toSeconds() + " s: " + t.stderr());
            }
            TimeUnit.MILLISECONDS.sleep(20);
        }
        return t;
    }

    private static boolean onPath(String tool) {
        for (String dir : (System.getenv("PATH") + ":/usr/sbin:/sbin:/usr/bin").split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, tool))) {
                return true;
            }
        }
        return false;
    }

    /** What tcpdump printed so far ("listening on ...", at the end "N packets captured", ...). */
    String stderr() {
        try {
            return Files.readString(stderr, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "(cannot read tcpdump's output: " + e + ")";
        }
    }

    /**
     * Stops tcpdump (SIGTERM: it writes what it holds and prints its counts) and returns what it
     * printed.
     */
    String stop() throws InterruptedException {
        // Until the file stops growing for 200 ms (at most 3 s): the last packets may still be on their way to it.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
        long size = -1;
        int stable = 0;
        while (stable < 4 && System.nanoTime() - deadline < 0) {
            TimeUnit.MILLISECONDS.sleep(50);
            long now = file.toFile().length();
            stable = now == size ? stable + 1 : 0;
            size = now;
        }
        process.destroy();
        if (!process.waitFor(STOP.toSeconds(), TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("tcpdump did not stop within " + STOP.toSeconds() + " s");
        }
        return stderr();
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroyForcibly();
            try {
                process.waitFor(STOP.toSeconds(), TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
