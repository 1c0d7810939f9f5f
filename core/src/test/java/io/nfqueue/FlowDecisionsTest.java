package io.nfqueue;

import io.nfqueue.internal.NativeConstants;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link FlowDecisions}' argument checks, made before any native call (no root, no library
 * needed: each of these would otherwise reach the shim), and the exceptions its errnos map to.
 */
class FlowDecisionsTest {
    @Test
    void aMaskOfZeroIsRefused(@TempDir Path dir) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> FlowDecisions.forget(0));
        assertTrue(e.getMessage().startsWith("mask is 0"), e.getMessage());
        // Checked first: even with a namespace path that is not one.
        IllegalArgumentException withPath = assertThrows(IllegalArgumentException.class,
                () -> FlowDecisions.forget(0, dir.resolve("missing")));
        assertEquals(e.getMessage(), withPath.getMessage());
    }

    @Test
    void aNullNamespaceIsRefusedWithTheOtherOverloadNamed() {
        NullPointerException e = assertThrows(NullPointerException.class, () -> FlowDecisions.forget(0x00300000, null));
        assertTrue(e.getMessage().contains("FlowDecisions.forget(mask)"), e.getMessage());
    }

    @Test
    void aMissingNamespaceFileSaysHowToMakeIt(@TempDir Path dir) {
        Path missing = dir.resolve("nope");
        NfQueueException e = assertThrows(NfQueueException.class, () -> FlowDecisions.forget(0x00300000, missing));
        assertTrue(e.getMessage().contains(missing + " does not exist") && e.getMessage().contains("ip netns add"),
                e.getMessage());
        assertEquals(NativeConstants.get().enoent, e.errno());
        assertNull(e.getCause(), "no native call was made");
    }

    @Test
    void aDirectoryOrRegularFileIsNotANamespace(@TempDir Path dir) throws Exception {
        NfQueueException directory = assertThrows(NfQueueException.class, () -> FlowDecisions.forget(1, dir));
        assertTrue(directory.getMessage().contains(dir + " is a directory"), directory.getMessage());
        Path file = Files.writeString(dir.resolve("netns"), "not a namespace");
        NfQueueException regular = assertThrows(NfQueueException.class, () -> FlowDecisions.forget(-1, file));
        assertTrue(regular.getMessage().contains(file + " is not a network namespace file"), regular.getMessage());
    }

    @Test
    void errnosMapToTheExceptionsAProgramActsOn() {
        NativeConstants k = NativeConstants.get();
        String op = "clear connection marks 0x300000";

        NfQueueException eperm = ErrorMapper.conntrackFailure(op, k.eperm);
        assertInstanceOf(MissingPrivilegeException.class, eperm);
        assertTrue(eperm.getMessage().contains("CAP_NET_ADMIN"), eperm.getMessage());
        assertEquals(op, eperm.operation());
        assertEquals(k.eperm, eperm.errno());

        for (int missing : new int[] {k.eprotonosupport, k.enoent, k.eopnotsupp}) {
            NfQueueException e = ErrorMapper.conntrackFailure(op, missing);
            assertInstanceOf(UnsupportedKernelFeatureException.class, e, e.getMessage());
            assertTrue(e.getMessage().contains("nf_conntrack_netlink"), e.getMessage());
            assertEquals(missing, e.errno());
        }
        assertTrue(ErrorMapper.conntrackFailure(op, k.eprotonosupport).getMessage()
                .contains("EPROTONOSUPPORT (errno 93)"));

        NfQueueException timeout = ErrorMapper.conntrackFailure(op, k.etimedout);
        assertEquals(NfQueueException.class, timeout.getClass());
        assertTrue(timeout.getMessage().startsWith(op + " failed: ETIMEDOUT"), timeout.getMessage());
        NfQueueException enomem = ErrorMapper.conntrackFailure(op, k.enomem);
        assertTrue(enomem.getMessage().contains("128 MiB"), enomem.getMessage());
    }
}
