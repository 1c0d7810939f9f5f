package io.nfqueue.samples;

import io.nfqueue.BoundQueue;
import io.nfqueue.reactor.PacketReceiver;
import io.nfqueue.testing.ChildProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;

import javax.tools.Diagnostic;
import javax.tools.DiagnosticCollector;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;
import java.io.File;
import java.io.IOException;
import java.net.JarURLConnection;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The module boundary, seen from a program on the module path: a module that
 * {@code requires io.nfqueue.reactor} compiles against the public packages (core's and
 * reactor-core's come with it, {@code requires transitive}), runs, and loads the shim from the
 * {@code io.nfqueue.natives} module without {@code --add-modules}; one that imports an internal
 * package does not compile. The modules are this build's jars (or class directories, under
 * {@code mvn test}), found where this test's class path has them.
 */
@Timeout(120)
class ModulePathConsumerTest {
    private static final String MAIN = """
            package consumer;

            import io.nfqueue.BoundQueue;
            import io.nfqueue.NativeLibraryUnavailableException;
            import io.nfqueue.NfQueueException;
            import io.nfqueue.QueueOptions;
            import io.nfqueue.packet.PacketParser;
            import io.nfqueue.reactor.PacketReceiver;
            import io.nfqueue.reactor.ReceiverOptions;
            import java.nio.file.Path;
            import reactor.core.publisher.Flux;

            public final class Main {
                public static void main(String[] args) {
                    Flux<?> packets = PacketReceiver.create(ReceiverOptions.queue(7)).receive();
                    new PacketParser();
                    System.out.println("MODULES " + Main.class.getModule().getName() + " "
                            + BoundQueue.class.getModule().getName() + " " + PacketReceiver.class.getModule().getName()
                            + " " + (packets != null));
                    try {
                        // Loads the shim (version and constant checks), then refuses the path before any bind.
                        BoundQueue.open(QueueOptions.queue(7).networkNamespace(Path.of("/nonexistent/netns")));
                        System.out.println("UNEXPECTED bound");
                    } catch (NativeLibraryUnavailableException e) {
                        System.out.println("NATIVE-UNAVAILABLE " + e.getMessage());
                    } catch (NfQueueException e) {
                        System.out.println("NATIVE-LOADED " + e.getMessage());
                    }
                }
            }
            """;

    @Test
    void aModuleRequiringTheReactorAdapterCompilesRunsAndLoadsTheShim(@TempDir Path dir) throws Exception {
        Path src = source(dir.resolve("src"), "requires io.nfqueue.reactor;", "consumer/Main.java", MAIN);
        Path out = dir.resolve("out");
        List<String> errors = compile(src, out);
        assertEquals(List.of(), errors);

        String modulePath = out + File.pathSeparator + modulePath();
        try (ChildProcess child = ChildProcess.start(List.of(ChildProcess.javaBinary(), "-XX:-UsePerfData",
                "--enable-native-access=io.nfqueue", "--module-path", modulePath, "-m", "consumer/consumer.Main"))) {
            String modules = child.awaitLine("MODULES ", Duration.ofSeconds(60));
            assertEquals("MODULES consumer io.nfqueue io.nfqueue.reactor true", modules, child.transcriptText());
            String loaded = child.awaitLine("NATIVE-", Duration.ofSeconds(60));
            assertTrue(loaded.startsWith("NATIVE-LOADED ") && loaded.contains("does not exist"), child.transcriptText());
            assertEquals(0, child.awaitExit(Duration.ofSeconds(30)), child.transcriptText());
            assertFalse(child.transcriptText().contains("WARNING"), child.transcriptText());
        }
    }

    @Test
    void theInternalPackagesAreNotVisibleToIt(@TempDir Path dir) throws Exception {
        String[][] internals = {
            {"io.nfqueue.internal.Natives", "io.nfqueue.internal", "io.nfqueue"},
            {"io.nfqueue.internal.fake.FakeTransport", "io.nfqueue.internal.fake", "io.nfqueue"},
            {"io.nfqueue.internal.access.TransportBinding", "io.nfqueue.internal.access", "io.nfqueue"},
            {"io.nfqueue.reactor.internal.Timings", "io.nfqueue.reactor.internal", "io.nfqueue.reactor"},
        };
        for (String[] internal : internals) {
            String simpleName = internal[0].substring(internal[0].lastIndexOf('.') + 1);
            Path src = source(dir.resolve(simpleName + "/src"), "requires io.nfqueue.reactor;", "consumer/Uses.java",
                    "package consumer;\n\nimport " + internal[0] + ";\n\npublic final class Uses {\n    "
                            + "static final Class<?> C = " + simpleName + ".class;\n}\n");
            List<String> errors = compile(src, dir.resolve(simpleName + "/out"));
            String expected = "package " + internal[1] + " is declared in module " + internal[2]
                    + ", which does not export it";
            assertTrue(errors.stream().anyMatch(e -> e.contains(expected)), expected + " in " + errors);
        }
    }

    /** A module "consumer" with one class. */
    private static Path source(Path src, String requires, String file, String text) throws IOException {
        Files.createDirectories(src.resolve(file).getParent());
        Files.writeString(src.resolve("module-info.java"), "module consumer {\n    " + requires + "\n}\n");
        Files.writeString(src.resolve(file), text);
        return src;
    }

    /** Compiles every source under {@code src}; returns the error messages. */
    private static List<String> compile(Path src, Path out) throws IOException {
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        assertNotNull(javac, "no compiler in this JVM");
        DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
        List<File> files;
        try (var walk = Files.walk(src)) {
            files = walk.filter(p -> p.toString().endsWith(".java")).map(Path::toFile).collect(Collectors.toList());
        }
        try (StandardJavaFileManager fm = javac.getStandardFileManager(diagnostics, null, StandardCharsets.UTF_8)) {
            // An empty class path: by default the compiler would search this JVM's, where the
            // internal packages are visible as part of the unnamed module.
            Path emptyClassPath = Files.createDirectories(out.resolveSibling(out.getFileName() + "-cp"));
            List<String> options = List.of("-d", out.toString(), "--module-path", modulePath(),
                    "-classpath", emptyClassPath.toString(), "-Xlint:all", "-Xlint:-requires-transitive-automatic");
            javac.getTask(null, fm, diagnostics, options, null, fm.getJavaFileObjectsFromFiles(files)).call();
        }
        List<String> errors = new ArrayList<>();
        for (Diagnostic<? extends JavaFileObject> d : diagnostics.getDiagnostics()) {
            if (d.getKind() == Diagnostic.Kind.ERROR) {
                errors.add(d.getMessage(null));
            }
        }
        return errors;
    }

    /**
     * This build's modules and reactor-core's, as this test's class path has them: nfqueue-core,
     * nfqueue-native, nfqueue-reactor, reactor-core and reactive-streams (Micrometer is optional).
     */
    private static String modulePath() {
        List<String> entries = List.of(
                ChildProcess.classPathOf(BoundQueue.class),
                entryHolding("META-INF/native/linux-" + ("amd64".equals(System.getProperty("os.arch")) ? "x86_64"
                        : System.getProperty("os.arch")) + "/libnfqueue_jni.so"),
                ChildProcess.classPathOf(PacketReceiver.class),
                ChildProcess.classPathOf(Flux.class),
                ChildProcess.classPathOf(Publisher.class));
        return String.join(File.pathSeparator, entries);
    }

    /** The jar or directory of this class path that holds {@code resource}. */
    private static String entryHolding(String resource) {
        try {
            URL url = ModulePathConsumerTest.class.getClassLoader().getResource(resource);
            assertNotNull(url, resource + " is not on the class path");
            if (url.getProtocol().equals("jar")) {
                return Path.of(((JarURLConnection) url.openConnection()).getJarFileURL().toURI()).toString();
            }
            Path p = Path.of(url.toURI());
            for (int i = 0; i < resource.split("/").length; i++) {
                p = p.getParent();
            }
            return p.toString();
        } catch (Exception e) {
            throw new IllegalStateException("cannot locate " + resource, e);
        }
    }
}
