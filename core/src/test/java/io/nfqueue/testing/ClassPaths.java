package io.nfqueue.testing;

import io.nfqueue.NetfilterQueue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Class paths for child JVMs that run as an unprivileged user (uid 65534). The build may sit
 * where that user cannot read (a clone under root's 0700 home; the local Maven repository
 * always does), so the entries it needs are copied once into a world-readable temporary
 * directory, removed when this JVM exits.
 */
public final class ClassPaths {
    private static Path copyRoot;

    private ClassPaths() {
    }

    /** Only the test classes (for senders that use nothing but the JDK), readable by anyone. */
    public static synchronized String testsOnly() {
        return readableCopy(ChildProcess.classPathOf(ClassPaths.class));
    }

    /** core classes + nfqueue-native (the .so) + test classes, readable by anyone. */
    public static synchronized String libraryAndTests() {
        Set<String> entries = new LinkedHashSet<>();
        entries.add(ChildProcess.classPathOf(NetfilterQueue.class));
        entries.add(ChildProcess.classPathOf(ClassPaths.class));
        entries.add(nativeLibraryRoot());
        List<String> copies = new ArrayList<>();
        for (String e : entries) {
            copies.add(readableCopy(e));
        }
        return String.join(":", copies);
    }

    /** The directory or jar on this class path holding META-INF/native/.../libnfqueue_jni.so. */
    static String nativeLibraryRoot() {
        String osArch = System.getProperty("os.arch");
        String arch = osArch.equals("amd64") ? "x86_64" : osArch.equals("arm64") ? "aarch64" : osArch;
        String resource = "META-INF/native/linux-" + arch + "/libnfqueue_jni.so";
        URL url = ClassPaths.class.getClassLoader().getResource(resource);
        if (url == null) {
            throw new IllegalStateException(resource + " is not on the test class path");
        }
        String s = url.toString();
        if (s.startsWith("jar:file:")) {
            return Path.of(URI.create(s.substring(4, s.indexOf("!/")))).toString();
        }
        return Path.of(URI.create(s.substring(0, s.length() - resource.length()))).toString();
    }

    /** Copies a class-path entry (directory or jar) under the world-readable root; returns the copy's path. */
    private static String readableCopy(String entry) {
        try {
            Path root = root();
            Path source = Path.of(entry);
            Path target = root.resolve(Integer.toHexString(entry.hashCode()) + "-" + source.getFileName());
            if (Files.exists(target)) {
                return target.toString();
            }
            try (Stream<Path> files = Files.walk(source)) {
                for (Path p : (Iterable<Path>) files::iterator) {
                    Path t = target.resolve(source.relativize(p).toString());
                    if (Files.isDirectory(p)) {
                        Files.createDirectories(t);
                        Files.setPosixFilePermissions(t, PosixFilePermissions.fromString("rwxr-xr-x"));
                    } else {
                        Files.copy(p, t);
                        Files.setPosixFilePermissions(t, PosixFilePermissions.fromString("rw-r--r--"));
                    }
                }
            }
            return target.toString();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot copy " + entry + " for an unprivileged child", e);
        }
    }

    private static Path root() throws IOException {
        if (copyRoot == null) {
            Path dir = Files.createTempDirectory("nfqt-classpath-");
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
            Runtime.getRuntime().addShutdownHook(new Thread(() -> delete(dir), "nfqt-classpath-cleanup"));
            copyRoot = dir;
        }
        return copyRoot;
    }

    private static void delete(Path dir) {
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // Best effort: a leftover in the temporary directory is harmless.
        }
    }
}
