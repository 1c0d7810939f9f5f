package io.nfqueue;

import io.nfqueue.internal.ErrnoException;
import io.nfqueue.test.kernel.KernelQueues;
import io.nfqueue.test.kernel.KernelTest;
import io.nfqueue.test.kernel.NetNamespace;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A namespace path that is not a network namespace file is an {@link NfQueueException} saying
 * what the path is: a directory, a regular file, a missing file are refused before any native
 * call; a namespace file of another type ({@code /proc/self/ns/mnt}) reaches {@code setns}, whose
 * EINVAL is the answer. Before the fix the directory, the regular file and the other namespace
 * type threw {@code IllegalStateException: Can't overwrite cause with ...ErrnoException}.
 */
@KernelTest
@Timeout(60)
class NamespacePathKernelTest {
    private static final int QUEUE = 29;

    @Test
    void aDirectoryIsRefusedBeforeAnyNativeCall(@TempDir Path dir) {
        NfQueueException e = refused(dir);
        assertTrue(e.getMessage().contains(dir + " is a directory, not a network namespace file"), e.getMessage());
        assertNull(e.getCause(), "no native call was made");
    }

    @Test
    void aRegularFileIsRefusedBeforeAnyNativeCall(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("netns"), "not a namespace");
        NfQueueException e = refused(file);
        assertTrue(e.getMessage().contains(file + " is not a network namespace file"), e.getMessage());
        assertNull(e.getCause(), "no native call was made");
    }

    @Test
    void aMissingFileSaysHowToMakeIt(@TempDir Path dir) {
        Path missing = dir.resolve("nope");
        NfQueueException e = refused(missing);
        assertTrue(e.getMessage().contains(missing + " does not exist") && e.getMessage().contains("ip netns add"),
                e.getMessage());
    }

    @Test
    void aNamespaceFileOfAnotherTypeGetsSetnsOwnError() {
        Path mnt = Path.of("/proc/self/ns/mnt");
        NfQueueException e = refused(mnt);
        assertEquals(22, e.errno(), e.getMessage());
        assertTrue(e.getMessage().contains("setns into network namespace " + mnt + " failed: EINVAL"), e.getMessage());
        assertTrue(e.getCause() instanceof ErrnoException, String.valueOf(e.getCause()));
    }

    @Test
    void aRealNamespaceStillBinds() {
        try (NetNamespace ns = NetNamespace.create();
             NetfilterQueue q = NetfilterQueue.open(QueueOptions.queue(QUEUE).networkNamespace(ns.path()))) {
            assertEquals(QUEUE, KernelQueues.find(ns, QUEUE).orElseThrow().queueNumber());
            assertEquals(QUEUE, q.options().queueNumber());
        }
    }

    /** Opening with {@code path} throws an NfQueueException (not an IllegalStateException) and binds nothing. */
    private static NfQueueException refused(Path path) {
        QueueOptions options = QueueOptions.queue(QUEUE).networkNamespace(path);
        Throwable t = assertThrows(Throwable.class, () -> NetfilterQueue.open(options).close());
        if (!(t instanceof NfQueueException e)) {
            throw new AssertionError("expected an NfQueueException for " + path + ", got " + t, t);
        }
        assertTrue(e.getMessage().contains(path.toString()), "names the path: " + e.getMessage());
        return e;
    }
}
