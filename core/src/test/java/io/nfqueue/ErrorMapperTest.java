package io.nfqueue;

import io.nfqueue.internal.ErrnoException;
import io.nfqueue.internal.NativeConstants;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Every failure the shim can throw during set-up becomes an {@link NfQueueException} carrying
 * the operation and errno (and the {@link ErrnoException} as its cause): mapped errnos and
 * unmapped ones alike, with and without a namespace. Before the fix every errno that fell
 * through to the generic mapping threw {@code IllegalStateException: Can't overwrite cause}.
 */
class ErrorMapperTest {
    /** The operations nfqueue_jni_socket.c and nfqueue_jni_netns.c name when they throw. */
    private static final List<String> OPERATIONS = List.of("open network namespace",
            "open /proc/thread-self/ns/net", "setns into network namespace",
            "setns back to the original network namespace", "socket(AF_NETLINK, NETLINK_NETFILTER)",
            "allocate socket state", "setsockopt(SO_RCVBUF)", "setsockopt(SO_SNDBUF)", "bind(AF_NETLINK)",
            "getsockname(AF_NETLINK)", "eventfd", "allocate send buffer", "allocate receive vectors",
            "allocate synthetic queue");

    /** What those calls can fail with (open, setns, socket, setsockopt, bind, eventfd, malloc), by number. */
    private static List<Integer> errnos() {
        NativeConstants k = NativeConstants.get();
        return List.of(k.eperm, k.enoent, k.ebadf, k.enomem, k.eacces, 17 /* EEXIST */, 20 /* ENOTDIR */,
                21 /* EISDIR */, k.einval, 23 /* ENFILE */, 24 /* EMFILE */, 36 /* ENAMETOOLONG */, 40 /* ELOOP */,
                k.enobufs, k.eopnotsupp, 93 /* EPROTONOSUPPORT */, 97 /* EAFNOSUPPORT */, 98 /* EADDRINUSE */,
                k.ebusy, k.enodev, 0, 4095);
    }

    @Test
    void everyErrnoOfEverySetUpStepMapsToAnNfQueueException() {
        Path netns = Path.of("/var/run/netns/nfqt-mapper");
        List<String> failures = new ArrayList<>();
        int checked = 0;
        for (String op : OPERATIONS) {
            for (int errno : errnos()) {
                for (Path ns : new Path[] {null, netns}) {
                    ErrnoException e = new ErrnoException(op, errno);
                    String what = op + " errno " + errno + (ns == null ? "" : " in " + ns);
                    NfQueueException mapped;
                    try {
                        mapped = ns == null ? ErrorMapper.map(e) : ErrorMapper.map(e, ns);
                    } catch (RuntimeException thrown) {
                        failures.add(what + ": threw " + thrown);
                        continue;
                    }
                    checked++;
                    assertEquals(errno, mapped.errno(), what);
                    assertTrue(mapped.operation().startsWith(op), what + ": " + mapped.operation());
                    assertTrue(mapped.getMessage().contains(op), what + ": " + mapped.getMessage());
                    if (!(mapped instanceof UnsupportedKernelFeatureException)) {
                        assertSame(e, mapped.getCause(), what);
                    }
                    boolean namespaceStep = op.startsWith("open network namespace") || op.startsWith("setns into");
                    if (ns != null && namespaceStep) {
                        assertTrue(mapped.getMessage().contains(ns.toString()), "names the path: " + mapped.getMessage());
                    }
                }
            }
        }
        if (!failures.isEmpty()) {
            fail(failures.size() + " of " + (checked + failures.size()) + " mappings threw:\n"
                    + String.join("\n", failures));
        }
    }

    @Test
    void theMappedKinds() {
        NativeConstants k = NativeConstants.get();
        Path ns = Path.of("/var/run/netns/x");
        assertTrue(ErrorMapper.map(new ErrnoException("setns into network namespace", k.eperm), ns)
                instanceof MissingPrivilegeException);
        assertTrue(ErrorMapper.map(new ErrnoException("setns into network namespace", 13)) instanceof MissingPrivilegeException);
        assertTrue(ErrorMapper.map(new ErrnoException("socket(AF_NETLINK, NETLINK_NETFILTER)", k.eperm))
                instanceof MissingPrivilegeException);
        assertTrue(ErrorMapper.map(new ErrnoException("bind(AF_NETLINK)", k.eopnotsupp))
                instanceof UnsupportedKernelFeatureException);
        NfQueueException missing = ErrorMapper.map(new ErrnoException("open network namespace", k.enoent), ns);
        assertTrue(missing.getMessage().contains("ip netns add"), missing.getMessage());
        NfQueueException notNetns = ErrorMapper.map(new ErrnoException("setns into network namespace", k.einval), ns);
        assertEquals(NfQueueException.class, notNetns.getClass());
        assertTrue(notNetns.getMessage().contains("EINVAL") && notNetns.getMessage().contains("is not a network namespace file"),
                notNetns.getMessage());
        NfQueueException generic = ErrorMapper.map(new ErrnoException("eventfd", 24));
        assertEquals(NfQueueException.class, generic.getClass());
        assertEquals("eventfd failed: errno 24", generic.getMessage());
    }
}
