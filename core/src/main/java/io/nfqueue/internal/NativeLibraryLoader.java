package io.nfqueue.internal;


import java.io.IOException;
import java.io.InputStream;
import java.net.JarURLConnection;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.util.Enumeration;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.jar.JarFile;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

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
    private static final String NATIVE_DIR = "META-INF/native/";
    /** The architectures nfqueue-native is built for (native/Makefile's ARCHS). */
    static final List<String> KNOWN_ARCHS = List.of("x86_64", "aarch64");
    /** Bounds the listing: a class path with more copies of the folder than this is not sane. */
    private static final int MAX_ROOTS = 64;

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
        ClassLoader loader = NativeLibraryLoader.class.getClassLoader();
        String resource = resource(arch());
        Path extracted;
        try (InputStream in = loader.getResourceAsStream(resource)) {
            if (in == null) {
                throw new NativeLibraryLoadException(notFound(System.getProperty("os.arch", ""),
                        availableArchitectures(loader), fromPath.getMessage()), fromPath);
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

    /** Where the jar keeps the library built for {@code arch}. */
    static String resource(String arch) {
        return NATIVE_DIR + "linux-" + arch + "/lib" + LIBRARY + ".so";
    }

    /**
     * The message for a JVM whose architecture has no library: the architecture as the JVM names
     * it and as the jar would, and the architectures the class path does carry.
     */
    static String notFound(String osArch, Set<String> available, String libraryPathMessage) {
        String arch = normalize(osArch);
        String found = available.isEmpty()
                ? "no lib" + LIBRARY + ".so for any architecture is on the class path: add the nfqueue-native jar"
                : "the class path has it only for " + new TreeSet<>(available).stream().map(a -> "linux-" + a)
                        .collect(Collectors.joining(", ")) + ", none for this JVM's architecture: "
                        + (KNOWN_ARCHS.contains(arch)
                                ? "use an nfqueue-native jar built for linux-" + arch
                                : "nfqueue-native is not built for it; build the shim for it (native/Makefile) "
                                        + "and put it on java.library.path");
        return "lib" + LIBRARY + ".so for linux-" + arch + " (os.arch=" + osArch + ") is neither on java.library.path ("
                + libraryPathMessage + ") nor on the class path as " + resource(arch) + "; " + found;
    }

    /**
     * The architectures whose library the class path carries under {@code META-INF/native/}:
     * listed from each jar or directory that has that folder, and probed by name for the
     * architectures this project builds, in case a jar lacks directory entries.
     */
    static Set<String> availableArchitectures(ClassLoader loader) {
        Set<String> found = new TreeSet<>();
        for (String arch : KNOWN_ARCHS) {
            if (loader.getResource(resource(arch)) != null) {
                found.add(arch);
            }
        }
        try {
            Enumeration<URL> roots = loader.getResources(NATIVE_DIR);
            for (int i = 0; roots.hasMoreElements() && i < MAX_ROOTS; i++) {
                listInto(roots.nextElement(), found);
            }
        } catch (IOException | RuntimeException e) {
            // The probe above already found what can be found by name; listing is a bonus.
        }
        return found;
    }

    private static void listInto(URL root, Set<String> found) throws IOException {
        Pattern library = Pattern.compile(Pattern.quote(NATIVE_DIR) + "linux-([^/]+)/lib" + LIBRARY + "\\.so");
        if ("jar".equals(root.getProtocol())) {
            JarURLConnection c = (JarURLConnection) root.openConnection();
            c.setUseCaches(false);
            try (JarFile jar = c.getJarFile()) {
                jar.stream().map(e -> library.matcher(e.getName())).filter(Matcher::matches)
                        .forEach(m -> found.add(m.group(1)));
            }
        } else if ("file".equals(root.getProtocol())) {
            Path dir;
            try {
                dir = Paths.get(root.toURI());
            } catch (URISyntaxException e) {
                return;
            }
            try (Stream<Path> entries = Files.list(dir)) {
                entries.filter(d -> Files.isRegularFile(d.resolve("lib" + LIBRARY + ".so")))
                        .map(d -> d.getFileName().toString())
                        .filter(n -> n.startsWith("linux-"))
                        .forEach(n -> found.add(n.substring("linux-".length())));
            }
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

    /** This JVM's architecture as the jar names it (linux-&lt;arch&gt;). */
    static String arch() {
        return normalize(System.getProperty("os.arch", ""));
    }

    /** The jar's name for an {@code os.arch} value: the kernel's (uname -m) for the two it has. */
    static String normalize(String osArch) {
        String arch = osArch.toLowerCase(Locale.ROOT);
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
