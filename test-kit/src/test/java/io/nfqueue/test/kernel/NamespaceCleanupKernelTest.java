package io.nfqueue.test.kernel;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

/**
 * The namespaces a {@link KernelTest} hands out are deleted after the test, also when it fails:
 * the test classes nested here fail on purpose, in a JUnit engine of their own started through
 * the platform launcher, and afterwards {@code ip netns list} must not show any namespace they got.
 */
@KernelTest
class NamespaceCleanupKernelTest {
    /** The configuration parameter that lets the nested classes run (only inside the launcher here). */
    static final String NESTED = "io.nfqueue.test.kernel.nested";
    /** "phase: namespace" for every namespace the nested tests got, in order. */
    static final List<String> EVENTS = new CopyOnWriteArrayList<>();

    @Test
    void namespacesOfFailingMethodsAreDeleted() {
        EVENTS.clear();
        Map<String, TestExecutionResult> results = run(FailingMethods.class);

        // Each nested test ran and failed for its own reason: none was skipped, none failed elsewhere.
        assertEquals(3, results.size(), results::toString);
        assertInstanceOf(Deliberate.class, cause(results, "failsWithAnAssertion"));
        assertInstanceOf(IllegalStateException.class, cause(results, "failsOnARefusedRule"));
        assertTrue(cause(results, "failsOnARefusedRule").getMessage().contains("iptables"));
        assertInstanceOf(Deliberate.class, cause(results, "failsWithTwoNamespaces"));

        // One namespace per test, the same in @BeforeEach, the test and @AfterEach; one for the class.
        String classWide = namespaceOf("beforeAll");
        assertEquals(classWide, namespaceOf("afterAll"));
        assertEquals(1, count("beforeAll"));
        assertEquals(3, count("beforeEach"));
        assertEquals(EVENTS.stream().filter(e -> e.startsWith("beforeEach")).map(e -> e.substring(e.indexOf(' ') + 1)).toList(),
                EVENTS.stream().filter(e -> e.startsWith("afterEach")).map(e -> e.substring(e.indexOf(' ') + 1)).toList(),
                EVENTS::toString);
        assertFalse(EVENTS.contains("beforeEach " + classWide), "a test gets its own namespace, not the class's");
        assertTrue(EVENTS.stream().filter(e -> e.startsWith("alive")).allMatch(e -> e.endsWith(" true")), EVENTS::toString);

        assertAllDeleted();
    }

    @Test
    void aRegisteredFieldIsDeletedWhenItsRuleOrItsTestFails() {
        EVENTS.clear();
        Map<String, TestExecutionResult> results = run(FailingField.class);

        assertEquals(1, results.size(), results::toString);
        assertInstanceOf(Deliberate.class, cause(results, "failsWithAFieldNamespace"));
        results = run(RefusedFieldRule.class);
        assertEquals(1, results.size(), results::toString);
        assertInstanceOf(IllegalStateException.class, cause(results, "neverRuns"));
        assertEquals(2, count("field"), EVENTS::toString);

        assertAllDeleted();
    }

    /** No namespace a nested test got is in {@code ip netns list} (or in /var/run/netns) any more. */
    private static void assertAllDeleted() {
        String list = Commands.run("ip", "netns", "list");
        for (String event : EVENTS) {
            if (event.startsWith("alive")) {
                continue;
            }
            String name = event.substring(event.indexOf(' ') + 1);
            assertTrue(name.startsWith(NetNamespace.PREFIX), name);
            assertFalse(list.contains(name), () -> name + " (" + event + ") leaked: ip netns list shows\n" + list);
            assertFalse(Files.exists(Path.of("/var/run/netns", name)), name + " leaked");
        }
    }

    private static String namespaceOf(String phase) {
        return EVENTS.stream().filter(e -> e.startsWith(phase + " ")).findFirst()
                .map(e -> e.substring(phase.length() + 1)).orElseThrow(() -> new AssertionError("no " + phase + " in " + EVENTS));
    }

    private static long count(String phase) {
        return EVENTS.stream().filter(e -> e.startsWith(phase + " ")).count();
    }

    private static Throwable cause(Map<String, TestExecutionResult> results, String test) {
        TestExecutionResult result = results.get(test + "()");
        if (result == null) {
            result = results.entrySet().stream().filter(e -> e.getKey().startsWith(test + "(")).map(Map.Entry::getValue)
                    .findFirst().orElseThrow(() -> new AssertionError("no result for " + test + " in " + results));
        }
        assertEquals(TestExecutionResult.Status.FAILED, result.getStatus(), test + ": " + result);
        return result.getThrowable().orElseThrow();
    }

    /** Runs {@code testClass} in a launcher of its own; the results of its tests by display name. */
    private static Map<String, TestExecutionResult> run(Class<?> testClass) {
        LauncherDiscoveryRequest request = LauncherDiscoveryRequestBuilder.request()
                .selectors(selectClass(testClass))
                .configurationParameter(NESTED, "true")
                .build();
        Map<String, TestExecutionResult> tests = new ConcurrentHashMap<>();
        Map<String, TestExecutionResult> containers = new ConcurrentHashMap<>();
        List<String> skipped = new CopyOnWriteArrayList<>();
        LauncherFactory.create().execute(request, new TestExecutionListener() {
            @Override
            public void executionFinished(TestIdentifier id, TestExecutionResult result) {
                (id.isTest() ? tests : containers).put(id.getDisplayName(), result);
            }

            @Override
            public void executionSkipped(TestIdentifier id, String reason) {
                skipped.add(id.getDisplayName() + ": " + reason);
            }
        });
        assertEquals(List.of(), skipped, "skipped in " + testClass.getSimpleName());
        containers.forEach((name, result) -> assertEquals(TestExecutionResult.Status.SUCCESSFUL, result.getStatus(),
                () -> "container " + name + ": " + result));
        return new TreeMap<>(tests);
    }

    /** The failure the nested tests raise on purpose. */
    static final class Deliberate extends RuntimeException {
        Deliberate() {
            super("fails on purpose");
        }
    }

    /** Lets the nested classes run only inside {@link #run}, not when a tool picks them up on their own. */
    static final class OnlyNested implements ExecutionCondition {
        @Override
        public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
            return context.getConfigurationParameter(NESTED).isPresent()
                    ? ConditionEvaluationResult.enabled("run by NamespaceCleanupKernelTest")
                    : ConditionEvaluationResult.disabled("fails on purpose; run by NamespaceCleanupKernelTest");
        }
    }

    @KernelTest
    @ExtendWith(OnlyNested.class)
    static class FailingMethods {
        private NetNamespace fromBeforeEach;

        @BeforeAll
        static void beforeAll(NetNamespace classWide) {
            EVENTS.add("beforeAll " + classWide.name());
        }

        @BeforeEach
        void beforeEach(NetNamespace ns) {
            fromBeforeEach = ns;
            EVENTS.add("beforeEach " + ns.name());
        }

        @Test
        void failsWithAnAssertion(NetNamespace ns) {
            EVENTS.add("alive " + ns.name() + " " + (ns == fromBeforeEach && Files.exists(ns.path())));
            throw new Deliberate();
        }

        @Test
        void failsOnARefusedRule(NetNamespace ns) {
            ns.iptables("-A OUTPUT --no-such-option");
        }

        @Test
        void failsWithTwoNamespaces(NetNamespace first, NetNamespace second) {
            assertNotEquals(first.name(), second.name());
            EVENTS.add("second " + second.name());
            EVENTS.add("alive " + second.name() + " " + (first == fromBeforeEach && Files.exists(second.path())));
            throw new Deliberate();
        }

        @AfterEach
        void afterEach(NetNamespace ns) {
            EVENTS.add("afterEach " + ns.name());
        }

        @AfterAll
        static void afterAll(NetNamespace classWide) {
            EVENTS.add("afterAll " + classWide.name());
        }
    }

    @KernelTest
    @ExtendWith(OnlyNested.class)
    static class FailingField {
        @RegisterExtension
        final NetNamespace ns = field(NetNamespace.create());

        @Test
        void failsWithAFieldNamespace() {
            throw new Deliberate();
        }
    }

    @KernelTest
    @ExtendWith(OnlyNested.class)
    static class RefusedFieldRule {
        @RegisterExtension
        final NetNamespace ns = field(NetNamespace.create()).withIptables("-A OUTPUT --no-such-option");

        @Test
        void neverRuns() {
            EVENTS.add("alive ran false");
        }
    }

    static NetNamespace field(NetNamespace ns) {
        EVENTS.add("field " + ns.name());
        return ns;
    }
}
