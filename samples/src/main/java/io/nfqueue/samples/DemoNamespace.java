package io.nfqueue.samples;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * One of the demo's own network namespaces, {@code nfq-demo-<pid>-<n>-<role>}: made with
 * {@code ip netns add}, loopback up, removed by {@link #delete()}. Everything inside it (links,
 * rules, sockets' traffic, the queue's held packets) goes with it. Namespaces left by a demo that
 * was killed (its pid is gone) are removed when the next one starts.
 */
final class DemoNamespace {
    static final String PREFIX = "nfq-demo-";
    static final Path NETNS_DIR = Path.of("/var/run/netns");
    private static final AtomicInteger SEQUENCE = new AtomicInteger();

    private final String name;

    private DemoNamespace(String name) {
        this.name = name;
    }

    /**
     * Makes the namespace {@code nfq-demo-<pid>-<n>-<role>} and brings its loopback up; on
     * failure nothing is left behind.
     */
    static DemoNamespace create(String role) {
        removeLeftovers();
        String name = PREFIX + ProcessHandle.current().pid() + "-" + SEQUENCE.incrementAndGet() + "-" + role;
        Command.run("ip", "netns", "add", name);
        DemoNamespace ns = new DemoNamespace(name);
        try {
            Command.run("ip", "-n", name, "link", "set", "lo", "up");
        } catch (RuntimeException e) {
            ns.delete();
            throw e;
        }
        return ns;
    }

    String name() {
        return name;
    }

    /** The namespace file, for {@code QueueOptions.networkNamespace(Path)}. */
    Path path() {
        return NETNS_DIR.resolve(name);
    }

    /** Runs {@code command} inside the namespace ({@code ip netns exec NAME ...}). */
    String exec(String... command) {
        List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", name));
        full.addAll(List.of(command));
        return Command.run(full.toArray(new String[0]));
    }

    /** Removes the namespace; a no-op if it is already gone. */
    void delete() {
        if (Files.exists(path())) {
            Command.run("ip", "netns", "del", name);
        }
    }

    /** The names of every demo namespace that exists now. */
    static List<String> existing() {
        if (!Files.isDirectory(NETNS_DIR)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(NETNS_DIR)) {
            return files.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(PREFIX)).toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    private static void removeLeftovers() {
        for (String n : existing()) {
            String pid = n.substring(PREFIX.length()).split("-")[0];
            try {
                if (ProcessHandle.of(Long.parseLong(pid)).isEmpty()) {
                    Command.run("ip", "netns", "del", n);
                }
            } catch (RuntimeException e) {
                // Not ours, or already gone: leave it.
            }
        }
    }
}
