package io.nfqueue.internal;


import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.util.Locale;

/**
 * Finds {@code libnfqueue_jni.so}: first on {@code java.library.path}, else extracted from
 * {@code META-INF/native/linux-<arch>/} of the {@code nfqueue-native} jar into a temporary
 * directory ({@code -Dnfqueue.native.tmpdir} overrides {@code java.io.tmpdir}, for hosts whose
 * tmp is {@code noexec}). A failure becomes one exception whose message says what to install or
 * change.
 */
final class NativeLibraryLoader {
    static final String LIBRARY = "nfqueue_jni";
    /**
     * The system property through which the shim's JNI_OnLoad learns the name of the class to
     * register its natives on: the name as it is at run time, so that a relocated (shaded) copy
     * of this library binds too. Not itself under io.nfqueue, or a relocation would rewrite it.
     */
    static final String NATIVES_CLASS_PROPERTY = "nfqueue.jni.natives";

    private static volatile boolean loadedFromPath;

    private NativeLibraryLoader() {
    }

    /** True when the library came from java.library.path rather than from the jar. */
    static boolean fromLibraryPath() {
        return loadedFromPath;
    }

    static void load() {
        String os = System.getProperty("os.name", "");
        if (!os.toLowerCase(Locale.ROOT).contains("linux")) {
            throw new NativeLibraryLoadException(
                    "NFQUEUE exists only on Linux; this JVM runs on " + os, null);
        }
        System.setProperty(NATIVES_CLASS_PROPERTY, Natives.class.getName());
        UnsatisfiedLinkError fromPath;
        try {
            System.loadLibrary(LIBRARY);
            loadedFromPath = true;
            return;
        } catch (UnsatisfiedLinkError e) {
            fromPath = e;
        }
        String resource = "META-INF/native/linux-" + arch() + "/lib" + LIBRARY + ".so";
        Path extracted;
        try (InputStream in = NativeLibraryLoader.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                throw new NativeLibraryLoadException("lib" + LIBRARY + ".so is neither on java.library.path ("
                        + fromPath.getMessage() + ") nor in the classpath as " + resource
                        + ": add the nfqueue-native jar built for linux-" + arch() + " to the classpath", fromPath);
            }
            Path dir = Files.createTempDirectory(tmpDir(), "nfqueue-native-");
            extracted = dir.resolve("lib" + LIBRARY + ".so");
            Files.copy(in, extracted, StandardCopyOption.REPLACE_EXISTING);
            extracted.toFile().deleteOnExit();
            dir.toFile().deleteOnExit();
        } catch (IOException e) {
            throw new NativeLibraryLoadException("cannot extract " + resource + " into " + tmpDir()
                    + " (" + e + "): set -Dnfqueue.native.tmpdir to a writable directory", e);
        }
        try {
            System.load(extracted.toString());
        } catch (UnsatisfiedLinkError e) {
            throw new NativeLibraryLoadException(advice(e, extracted), e);
        }
    }

    private static String advice(UnsatisfiedLinkError e, Path extracted) {
        String message = String.valueOf(e.getMessage());
        if (message.contains("libnetfilter_queue")) {
            return "libnetfilter_queue is not installed (" + message
                    + "): install it, e.g. apt-get install libnetfilter-queue1 libmnl0";
        }
        if (message.contains("libmnl")) {
            return "libmnl is not installed (" + message + "): install it, e.g. apt-get install libmnl0";
        }
        if (message.contains("failed to map segment") || message.contains("Operation not permitted")) {
            return "cannot load " + extracted + " (" + message + "): the temporary directory is probably "
                    + "mounted noexec; set -Dnfqueue.native.tmpdir to a directory that allows execution";
        }
        return "cannot load " + extracted + ": " + message;
    }

    private static Path tmpDir() {
        return Paths.get(System.getProperty("nfqueue.native.tmpdir", System.getProperty("java.io.tmpdir")));
    }

    static String arch() {
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        switch (arch) {
            case "amd64":
            case "x86_64":
                return "x86_64";
            case "aarch64":
            case "arm64":
                return "aarch64";
            default:
                return arch;
        }
    }

    /** A fresh exception for each caller after the first failure, so stack traces stay true. */
    static RuntimeException rethrowable(RuntimeException first) {
        if (first instanceof NativeLibraryLoadException) {
            return new NativeLibraryLoadException(first.getMessage(), first);
        }
        return new NativeLibraryLoadException("native library failed to load: " + first, first);
    }
}
