package io.nfqueue;

import io.nfqueue.internal.NativeConstants;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * Checks a network namespace path before the native code opens it and calls {@code setns}, so
 * that the mistakes a user makes get a message that says what the path is and what is expected:
 * a missing file, a directory, a file that is not a namespace file at all. Namespace files (a
 * bind mount at {@code /var/run/netns/NAME}, {@code /proc/PID/ns/net}) live on the kernel's one
 * {@code nsfs} file system, so a file on any other device cannot be one; that is compared with
 * the device of this process's own {@code /proc/self/ns/net}. What the check cannot see (a
 * namespace file of another type, such as {@code /proc/PID/ns/mnt}; a file it may not read) is
 * left to {@code open} and {@code setns}, whose error is the final word.
 */
final class NamespacePaths {
    private static final Path OWN = Path.of("/proc/self/ns/net");
    private static final String EXPECTED = "a network namespace file such as /var/run/netns/NAME (made by "
            + "'ip netns add NAME') or /proc/PID/ns/net";

    private NamespacePaths() {
    }

    /**
     * Throws an {@link NfQueueException} when {@code path} certainly is not a network namespace
     * file (errno ENOENT when it does not exist, 0 when it is a directory or on another file
     * system than nsfs); returns when it may be one.
     */
    static void check(Path path) {
        String operation = "open network namespace " + path;
        if (Files.notExists(path)) {
            throw new NfQueueException("network namespace file " + path + " does not exist: create the namespace "
                    + "with 'ip netns add NAME' and use /var/run/netns/NAME", operation, NativeConstants.get().enoent, null);
        }
        BasicFileAttributes attributes;
        try {
            attributes = Files.readAttributes(path, BasicFileAttributes.class);
        } catch (IOException | RuntimeException cannotTell) {
            return;   // e.g. no permission to look: open() and setns() will say
        }
        if (attributes.isDirectory()) {
            throw new NfQueueException(path + " is a directory, not a network namespace file: expected "
                    + EXPECTED, operation, 0, null);
        }
        Object device = device(path);
        Object own = device(OWN);
        if (device != null && own != null && !device.equals(own)) {
            throw new NfQueueException(path + " is not a network namespace file (it is not on the kernel's nsfs "
                    + "file system): expected " + EXPECTED, operation, 0, null);
        }
    }

    /** The device the file (after symbolic links) is on, or null when it cannot be read. */
    private static Object device(Path path) {
        try {
            return Files.getAttribute(path, "unix:dev");
        } catch (IOException | RuntimeException e) {
            return null;   // no "unix" view, no permission: do not guess
        }
    }
}
