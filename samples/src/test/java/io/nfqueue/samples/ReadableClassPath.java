package io.nfqueue.samples;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * This JVM's whole class path (samples, core, reactor, picocli...) copied where an unprivileged
 * user (uid 65534) can read it: the local Maven repository sits under root's 0700 home. Made once,
 * removed when this JVM exits.
 */
final class ReadableClassPath {
    private static String copy;

    private ReadableClassPath() {
    }

    static synchronized String get() {
        if (copy != null) {
            return copy;
        }
        try {
            Path root = Files.createTempDirectory("nfqt-samples-cp-");
            Runtime.getRuntime().addShutdownHook(new Thread(() -> delete(root), "nfqt-samples-cp-cleanup"));
            List<String> entries = new ArrayList<>();
            int i = 0;
            for (String entry : System.getProperty("java.class.path").split(":")) {
                Path source = Path.of(entry);
                if (!Files.exists(source)) {
                    continue;
                }
                Path target = root.resolve(i++ + "-" + source.getFileName());
                try (Stream<Path> files = Files.walk(source)) {
                    for (Path p : (Iterable<Path>) files::iterator) {
                        Path t = target.resolve(source.relativize(p).toString());
                        if (Files.isDirectory(p)) {
                            Files.createDirectories(t);
                        } else {
                            Files.copy(p, t);
                        }
                    }
                }
                entries.add(target.toString());
            }
            try (Stream<Path> files = Files.walk(root)) {
                for (Path p : (Iterable<Path>) files::iterator) {
                    Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(Files.isDirectory(p)
                            ? "rwxr-xr-x" : "rw-r--r--"));
                }
            }
            copy = String.join(":", entries);
            return copy;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot copy the class path for an unprivileged child", e);
        }
    }

    private static void delete(Path dir) {
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // Best effort: a leftover in the temporary directory is harmless.
        }
    }
}
