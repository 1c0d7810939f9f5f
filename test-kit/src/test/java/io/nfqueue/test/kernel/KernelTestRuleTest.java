package io.nfqueue.test.kernel;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.opentest4j.TestAbortedException;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The skip/fail rule of {@link KernelTest}, where nothing needs root: decided from what is missing. */
class KernelTestRuleTest {
    private static final List<String> NOT_ROOT = List.of("root (uid 0: ...)");

    @Test
    void nothingMissingRuns() {
        ConditionEvaluationResult result = KernelTestExtension.decide(List.of(), true, "FirewallKernelTest");
        assertFalse(result.isDisabled());
    }

    @Test
    void somethingMissingSkipsSayingWhat() {
        ConditionEvaluationResult result = KernelTestExtension.decide(NOT_ROOT, false, "FirewallKernelTest");
        assertTrue(result.isDisabled());
        String reason = result.getReason().orElseThrow();
        assertTrue(reason.startsWith("kernel tests of FirewallKernelTest need root (uid 0: ...)"), reason);
        assertTrue(reason.contains("skipped"), reason);
        assertTrue(reason.contains("nfqueue.requireKernelTests=true"), "says how to make it a failure: " + reason);
    }

    @Test
    void somethingMissingFailsWhereKernelTestsAreRequired() {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> KernelTestExtension.decide(NOT_ROOT, true, "FirewallKernelTest"));
        assertTrue(e.getMessage().startsWith("kernel tests of FirewallKernelTest need root (uid 0: ...)"), e.getMessage());
        assertTrue(e.getMessage().contains("nfqueue.requireKernelTests=true"), e.getMessage());
    }

    @Test
    void aMissingRuleCommandSkipsOrFails() {
        String command = "nfqt-no-such-command";
        String before = System.getProperty(Prerequisites.REQUIRE_PROPERTY);
        try {
            System.clearProperty(Prerequisites.REQUIRE_PROPERTY);
            TestAbortedException skip = assertThrows(TestAbortedException.class,
                    () -> Prerequisites.requireCommand(command, "some-package"));
            assertEquals("this kernel test needs the 'nfqt-no-such-command' command (apt-get install some-package); skipped",
                    skip.getMessage());
            System.setProperty(Prerequisites.REQUIRE_PROPERTY, "true");
            IllegalStateException fail = assertThrows(IllegalStateException.class,
                    () -> Prerequisites.requireCommand(command, "some-package"));
            assertTrue(fail.getMessage().contains("apt-get install some-package"), fail.getMessage());
        } finally {
            if (before == null) {
                System.clearProperty(Prerequisites.REQUIRE_PROPERTY);
            } else {
                System.setProperty(Prerequisites.REQUIRE_PROPERTY, before);
            }
        }
    }

    @Test
    void capabilitiesAreReadFromTheEffectiveMask() {
        assertTrue(Prerequisites.hasCapabilities("000001ffffffffff"), "root, all capabilities");
        assertTrue(Prerequisites.hasCapabilities(Long.toHexString((1L << 12) | (1L << 21))));
        assertFalse(Prerequisites.hasCapabilities("00000000a80425fb"), "docker's default set: no NET_ADMIN, no SYS_ADMIN");
        assertFalse(Prerequisites.hasCapabilities(Long.toHexString(1L << 12)), "NET_ADMIN alone");
        assertFalse(Prerequisites.hasCapabilities("0000000000000000"));
        assertFalse(Prerequisites.hasCapabilities("not hex"));
    }
}
