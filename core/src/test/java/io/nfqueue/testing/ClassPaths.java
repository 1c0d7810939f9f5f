package io.nfqueue.testing;

import io.nfqueue.NetfilterQueue;

import java.net.URL;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * Class paths for child JVMs that run as an unprivileged user: only the directories or jars
 * that hold the library, its native library and the test classes, none of which sit under
 * root's private home (the local Maven repository does).
 */
public final class ClassPaths {
    private ClassPaths() {
    }

    /** core classes + nfqueue-native (the .so) + test classes. */
    public static String libraryAndTests() {
        Set<String> entries = new LinkedHashSet<>();
        entries.add(ChildProcess.classPathOf(NetfilterQueue.class));
        entries.add(ChildProcess.classPathOf(ClassPaths.class));
        entries.add(nativeLibraryRoot());
        return String.join(":", entries);
    }

    /** The directory or jar on this class path holding META-INF/native/.../libnfqueue_jni.so. */
    static String nativeLibraryRoot() {
        String arch = System.getProperty("os.arch").equals("amd64") ? "x86_64" : System.getProperty("os.arch");
        String resource = "META-INF/native/linux-" + arch + "/libnfqueue_jni.so";
        URL url = ClassPaths.class.getClassLoader().getResource(resource);
        if (url == null) {
            throw new IllegalStateException(resource + " is not on the test class path");
        }
        String s = url.toString();
        if (s.startsWith("jar:file:")) {
            return Path.of(java.net.URI.create(s.substring(4, s.indexOf("!/")))).toString();
        }
        return Path.of(java.net.URI.create(s.substring(0, s.length() - resource.length()))).toString();
    }
}
