package io.nfqueue.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/**
 * The version of these classes (nfqueue-core), which the native library must match: a core of
 * one version and an nfqueue-native of another (a dependency tree that pinned them apart, an old
 * {@code .so} on {@code java.library.path}) would share no guarantee about records or behaviour.
 */
public final class LibraryVersion {
    /** "0.1.0-SNAPSHOT", as the build wrote it. */
    public static final String CURRENT = read();

    private LibraryVersion() {
    }

    private static String read() {
        try (InputStream in = LibraryVersion.class.getResourceAsStream("nfqueue-version.properties")) {
            if (in == null) {
                return "unknown";
            }
            Properties p = new Properties();
            p.load(in);
            return p.getProperty("version", "unknown");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read nfqueue-version.properties", e);
        }
    }
}
