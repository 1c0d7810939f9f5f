package io.nfqueue.internal;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Which library the loader looks for, and what it says when the class path has none for this
 * JVM's architecture: the architecture (as the JVM and as the jar name it) and the ones there are.
 */
class NativeLibraryLoaderTest {
    @Test
    void theJvmsArchitectureNamesMapToTheKernels() {
        assertEquals("x86_64", NativeLibraryLoader.normalize("amd64"));
        assertEquals("x86_64", NativeLibraryLoader.normalize("x86_64"));
        assertEquals("aarch64", NativeLibraryLoader.normalize("aarch64"));
        assertEquals("aarch64", NativeLibraryLoader.normalize("arm64"));
        assertEquals("riscv64", NativeLibraryLoader.normalize("riscv64"));
        assertEquals("META-INF/native/linux-aarch64/libnfqueue_jni.so", NativeLibraryLoader.resource("aarch64"));
    }

    @Test
    void theBuiltNativeJarCarriesTheArchitectureOfThisJvm() {
        // The native module is on this module's test class path; CI builds it with every arch.
        Set<String> available = NativeLibraryLoader.availableArchitectures(getClass().getClassLoader());
        assertTrue(available.contains(NativeLibraryLoader.arch()), available.toString());
    }

    @Test
    void architecturesAreListedFromAJar(@TempDir Path dir) throws IOException {
        Path jar = jar(dir.resolve("native.jar"), true, "aarch64", "riscv64");
        try (URLClassLoader loader = loader(jar)) {
            assertEquals(Set.of("aarch64", "riscv64"), NativeLibraryLoader.availableArchitectures(loader));
        }
    }

    @Test
    void aJarWithoutDirectoryEntriesStillShowsTheArchitecturesTheProjectBuilds(@TempDir Path dir) throws IOException {
        Path jar = jar(dir.resolve("native.jar"), false, "x86_64", "aarch64", "riscv64");
        try (URLClassLoader loader = loader(jar)) {
            Set<String> found = NativeLibraryLoader.availableArchitectures(loader);
            assertTrue(found.containsAll(List.of("x86_64", "aarch64")), found.toString());
        }
    }

    @Test
    void architecturesAreListedFromADirectory(@TempDir Path dir) throws IOException {
        for (String arch : List.of("x86_64", "s390x")) {
            Path lib = dir.resolve(NativeLibraryLoader.resource(arch));
            Files.createDirectories(lib.getParent());
            Files.write(lib, new byte[] {0x7f, 'E', 'L', 'F'});
        }
        Files.createDirectories(dir.resolve("META-INF/native/linux-empty"));
        try (URLClassLoader loader = loader(dir)) {
            assertEquals(Set.of("s390x", "x86_64"), NativeLibraryLoader.availableArchitectures(loader));
        }
    }

    @Test
    void aMissingArchitectureIsNamedWithTheOnesThereAre() {
        String m = NativeLibraryLoader.notFound("arm64", Set.of("x86_64"), "no nfqueue_jni in java.library.path");
        assertTrue(m.contains("linux-aarch64 (os.arch=arm64)"), m);
        assertTrue(m.contains("only for linux-x86_64"), m);
        assertTrue(m.contains("META-INF/native/linux-aarch64/libnfqueue_jni.so"), m);
        assertTrue(m.contains("use an nfqueue-native jar built for linux-aarch64"), m);
        assertTrue(m.contains("no nfqueue_jni in java.library.path"), m);
    }

    @Test
    void anArchitectureTheProjectDoesNotBuildSaysSo() {
        String m = NativeLibraryLoader.notFound("ppc64le", Set.of("aarch64", "x86_64"), "x");
        assertTrue(m.contains("linux-ppc64le (os.arch=ppc64le)"), m);
        assertTrue(m.contains("only for linux-aarch64, linux-x86_64"), m);
        assertTrue(m.contains("nfqueue-native is not built for it"), m);
    }

    @Test
    void noNativeJarAtAllSaysToAddIt(@TempDir Path dir) throws IOException {
        try (URLClassLoader loader = loader(dir)) {
            Set<String> none = NativeLibraryLoader.availableArchitectures(loader);
            assertEquals(Set.of(), none);
            String m = NativeLibraryLoader.notFound("amd64", none, "x");
            assertTrue(m.contains("linux-x86_64 (os.arch=amd64)"), m);
            assertTrue(m.contains("for any architecture is on the class path: add the nfqueue-native jar"), m);
        }
    }

    /** A loader that sees only {@code root}, not this test's class path. */
    private static URLClassLoader loader(Path root) throws IOException {
        return new URLClassLoader(new URL[] {root.toUri().toURL()}, null);
    }

    private static Path jar(Path jar, boolean directoryEntries, String... archs) throws IOException {
        try (OutputStream out = Files.newOutputStream(jar); JarOutputStream j = new JarOutputStream(out)) {
            if (directoryEntries) {
                j.putNextEntry(new JarEntry("META-INF/native/"));
                j.closeEntry();
            }
            for (String arch : archs) {
                String lib = NativeLibraryLoader.resource(arch);
                if (directoryEntries) {
                    j.putNextEntry(new JarEntry(lib.substring(0, lib.lastIndexOf('/') + 1)));
                    j.closeEntry();
                }
                j.putNextEntry(new JarEntry(lib));
                j.write(new byte[] {0x7f, 'E', 'L', 'F'});
                j.closeEntry();
            }
        }
        return jar;
    }
}
