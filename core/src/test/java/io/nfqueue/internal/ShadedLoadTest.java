package io.nfqueue.internal;

import io.nfqueue.testing.ChildProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.commons.ClassRemapper;
import org.objectweb.asm.commons.Remapper;

import java.io.File;
import java.io.IOException;
import java.net.JarURLConnection;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A relocated (shaded) copy of the library still binds its natives: its classes are rewritten
 * under another package, as maven-shade-plugin's relocation does, and a child JVM loads the shim
 * through them. The shim finds the class to register on by the name the loader hands it at run
 * time, not by the name it was built with.
 */
@Timeout(60)
class ShadedLoadTest {
    private static final String PREFIX = "relocated/";

    @Test
    void aRelocatedCopyLoadsAndRegistersItsNatives(@TempDir Path dir) throws Exception {
        Path main = Path.of(Natives.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        Path tests = Path.of(ShadedLoadMain.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        relocate(main, dir);
        relocate(tests.resolve("io/nfqueue/internal/ShadedLoadMain.class"), tests, dir);
        // The shim itself, as the native jar has it (META-INF/native/linux-<arch>/...).
        Path nativeRoot = classPathEntryOf("META-INF/native/linux-" + NativeLibraryLoader.arch() + "/libnfqueue_jni.so");
        String cp = dir + File.pathSeparator + nativeRoot;
        try (ChildProcess child = ChildProcess.start(List.of(ChildProcess.javaBinary(), "-XX:-UsePerfData", "-Xcheck:jni",
                ChildProcess.ENABLE_NATIVE_ACCESS,
                "-cp", cp, "relocated.io.nfqueue.internal.ShadedLoadMain"))) {
            String line = child.awaitLine("LOADED ", Duration.ofSeconds(30));
            assertTrue(line.startsWith("LOADED relocated.io.nfqueue.internal.Natives"), line);
            assertEquals(0, child.awaitExit(Duration.ofSeconds(30)), child.transcriptText());
        }
    }

    /** The jar or directory of the class path that holds {@code resource}. */
    private static Path classPathEntryOf(String resource) throws Exception {
        URL url = ClassLoader.getSystemResource(resource);
        if (url.getProtocol().equals("jar")) {
            return Path.of(((JarURLConnection) url.openConnection()).getJarFileURL().toURI());
        }
        Path p = Path.of(url.toURI());
        for (int i = 0; i < resource.split("/").length; i++) {
            p = p.getParent();
        }
        return p;
    }

    private static void relocate(Path root, Path out) throws IOException {
        try (Stream<Path> files = Files.walk(root)) {
            for (Path f : (Iterable<Path>) files.filter(p -> p.toString().endsWith(".class"))::iterator) {
                relocate(f, root, out);
            }
        }
    }

    /** Rewrites one class file with every io/nfqueue name moved under {@link #PREFIX}. */
    private static void relocate(Path file, Path root, Path out) throws IOException {
        Remapper remapper = new Remapper() {
            @Override
            public String map(String internalName) {
                return internalName.startsWith("io/nfqueue/") ? PREFIX + internalName : internalName;
            }

            @Override
            public Object mapValue(Object value) {
                // As the shade plugin does: string constants that name a relocated class move too.
                if (value instanceof String s && s.startsWith("io.nfqueue.")) {
                    return PREFIX.replace('/', '.') + s;
                }
                return super.mapValue(value);
            }
        };
        ClassReader reader = new ClassReader(Files.readAllBytes(file));
        ClassWriter writer = new ClassWriter(0);
        reader.accept(new ClassRemapper(writer, remapper), 0);
        Path target = out.resolve(PREFIX + root.relativize(file).toString());
        Files.createDirectories(target.getParent());
        Files.write(target, writer.toByteArray());
    }
}
