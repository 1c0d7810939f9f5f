package io.nfqueue.test.kernel;

import org.junit.jupiter.api.extension.ExtensionContext;
import org.opentest4j.TestAbortedException;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What a kernel test needs, and the rule for when it is missing: skip, or fail where kernel
 * tests are required ({@value #REQUIRE_PROPERTY}{@code =true}).
 */
final class Prerequisites {
    /** A system property or JUnit configuration parameter; {@code true} turns every skip into a failure. */
    static final String REQUIRE_PROPERTY = "nfqueue.requireKernelTests";

    private static final int CAP_NET_ADMIN = 12;
    private static final int CAP_SYS_ADMIN = 21;

    private Prerequisites() {
    }

    /** What this JVM lacks for kernel tests (Linux, root, the {@code ip} command); empty when nothing. */
    static List<String> missing() {
        List<String> missing = new ArrayList<>();
        if (!System.getProperty("os.name", "").toLowerCase().contains("linux")) {
            missing.add("Linux");
            return missing;
        }
        Optional<String> uid = statusField("Uid:");
        if (uid.isEmpty() || !uid.get().split("\\s+")[1].equals("0")) {
            missing.add("root (uid 0: network namespaces and NFQUEUE need CAP_SYS_ADMIN and CAP_NET_ADMIN)");
        } else if (!hasCapabilities(statusField("CapEff:").orElse("0"))) {
            missing.add("the capabilities CAP_NET_ADMIN and CAP_SYS_ADMIN (uid 0 has them unless a container took them "
                    + "away: run it with --cap-add NET_ADMIN --cap-add SYS_ADMIN, or --privileged)");
        }
        if (!onPath("ip")) {
            missing.add(commandNote("ip", "iproute2"));
        }
        return missing;
    }

    /** Whether kernel tests must run here: the configuration parameter (or system property) is true. */
    static boolean required(ExtensionContext context) {
        return context.getConfigurationParameter(REQUIRE_PROPERTY).map(Boolean::parseBoolean).orElse(false);
    }

    /** Whether kernel tests must run here, outside a JUnit context: the system property is true. */
    static boolean required() {
        return Boolean.getBoolean(REQUIRE_PROPERTY);
    }

    /**
     * Throws unless {@code command} is installed: a {@link TestAbortedException} (the test is
     * skipped, with the reason) or, where kernel tests are required, an {@link IllegalStateException}.
     */
    static void requireCommand(String command, String debianPackage) {
        if (!onPath(command)) {
            String reason = "this kernel test needs " + commandNote(command, debianPackage);
            if (required()) {
                throw new IllegalStateException(reason + " (kernel tests are required here: " + REQUIRE_PROPERTY
                        + "=true; a skip would hide them)");
            }
            throw new TestAbortedException(reason + "; skipped");
        }
    }

    private static String commandNote(String command, String debianPackage) {
        return "the '" + command + "' command (apt-get install " + debianPackage + ")";
    }

    /** CAP_NET_ADMIN and CAP_SYS_ADMIN in a CapEff mask of /proc/self/status (hexadecimal). */
    static boolean hasCapabilities(String capEff) {
        try {
            BigInteger mask = new BigInteger(capEff.trim(), 16);
            return mask.testBit(CAP_NET_ADMIN) && mask.testBit(CAP_SYS_ADMIN);
        } catch (NumberFormatException e) {
            return false;
        }
    }

    private static Optional<String> statusField(String name) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(name)) {
                    return Optional.of(line.substring(name.length()).trim());
                }
            }
        } catch (IOException e) {
            return Optional.empty();
        }
        return Optional.empty();
    }

    /** Whether {@code command} is an executable on the PATH, or in /usr/sbin or /sbin (which a user's PATH may lack). */
    static boolean onPath(String command) {
        for (String dir : (System.getenv("PATH") + ":/usr/sbin:/sbin").split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, command))) {
                return true;
            }
        }
        return false;
    }
}
