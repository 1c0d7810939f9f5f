package io.nfqueue.samples;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Checks the process's effective capabilities before a command starts, so that a user without
 * them gets one clear line instead of a failure halfway through.
 */
final class Privileges {
    static final int CAP_NET_ADMIN = 12;
    static final int CAP_SYS_ADMIN = 21;

    private Privileges() {
    }

    /** The effective capability set from {@code /proc/self/status}, or 0 when unreadable. */
    static long effectiveCapabilities() {
        try {
            return parseCapEff(Files.readAllLines(Path.of("/proc/self/status")));
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    static long parseCapEff(List<String> statusLines) {
        for (String line : statusLines) {
            if (line.startsWith("CapEff:")) {
                return Long.parseUnsignedLong(line.substring("CapEff:".length()).trim(), 16);
            }
        }
        return 0;
    }

    static boolean has(long caps, int capability) {
        return (caps & (1L << capability)) != 0;
    }

    /**
     * Throws a one-line {@link MissingRootException} unless every capability is effective.
     *
     * @param why which capabilities and what for, e.g. "CAP_NET_ADMIN, to bind a queue"
     */
    static void require(String why, int... capabilities) {
        long caps = effectiveCapabilities();
        for (int c : capabilities) {
            if (!has(caps, c)) {
                throw new MissingRootException("needs root (" + why + "): run it as root, e.g. with sudo");
            }
        }
    }

    /** The command lacks a capability; its message is the one line to show. */
    static final class MissingRootException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        MissingRootException(String message) {
            super(message);
        }
    }
}
