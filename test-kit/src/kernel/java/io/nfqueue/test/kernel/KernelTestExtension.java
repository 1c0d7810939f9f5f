package io.nfqueue.test.kernel;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;

import java.lang.reflect.Executable;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;

/**
 * The extension behind {@link KernelTest}: the skip/fail rule, and a {@link NetNamespace} for each
 * {@code NetNamespace} parameter, removed when the test (or, for {@code @BeforeAll}, the class) is done.
 */
final class KernelTestExtension implements ExecutionCondition, ParameterResolver, AfterEachCallback, AfterAllCallback {
    private static final List<String> MISSING = List.copyOf(Prerequisites.missing());

    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        return decide(MISSING, Prerequisites.required(context), context.getDisplayName());
    }

    /**
     * The rule: run when nothing is missing; otherwise skip with the reason, or, where kernel
     * tests are required, throw (the class or test fails, so a skip cannot hide it).
     */
    static ConditionEvaluationResult decide(List<String> missing, boolean required, String testName) {
        if (missing.isEmpty()) {
            return ConditionEvaluationResult.enabled("kernel test prerequisites present");
        }
        String reason = "kernel tests of " + testName + " need " + String.join(", ", missing);
        if (required) {
            throw new IllegalStateException(reason + " (kernel tests are required here: " + Prerequisites.REQUIRE_PROPERTY
                    + "=true; a skip would hide them)");
        }
        return ConditionEvaluationResult.disabled(reason + "; skipped (run as root on Linux to run them, or set "
                + Prerequisites.REQUIRE_PROPERTY + "=true to make this a failure)");
    }

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return parameter.getParameter().getType() == NetNamespace.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        Executable executable = parameter.getDeclaringExecutable();
        if (!(executable instanceof Method)) {
            throw new ParameterResolutionException("a NetNamespace is given to test methods and to @BeforeEach, @AfterEach, "
                    + "@BeforeAll and @AfterAll methods, not to " + executable);
        }
        // The n-th NetNamespace parameter of @BeforeEach, the test and @AfterEach is the same namespace.
        int index = 0;
        Class<?>[] types = executable.getParameterTypes();
        for (int i = 0; i < parameter.getIndex(); i++) {
            if (types[i] == NetNamespace.class) {
                index++;
            }
        }
        return owned(context, true).get(index);
    }

    @Override
    public void afterEach(ExtensionContext context) {
        closeOwned(context);
    }

    @Override
    public void afterAll(ExtensionContext context) {
        closeOwned(context);
    }

    private static void closeOwned(ExtensionContext context) {
        Owned owned = owned(context, false);
        if (owned != null) {
            store(context).remove(Owned.class);
            owned.close();
        }
    }

    /** The namespaces made for this context (a test, or a class), not those of its parents. */
    private static Owned owned(ExtensionContext context, boolean create) {
        ExtensionContext.Store store = store(context);
        Owned owned = store.get(Owned.class, Owned.class);
        if (owned == null && create) {
            owned = new Owned();
            store.put(Owned.class, owned);
        }
        return owned;
    }

    private static ExtensionContext.Store store(ExtensionContext context) {
        // Keyed by the context's id: a store lookup also searches the parents' stores, and a test
        // must not get the namespaces of its class's @BeforeAll.
        return context.getStore(ExtensionContext.Namespace.create(KernelTestExtension.class, context.getUniqueId()));
    }

    /** The namespaces of one context, in parameter order. */
    private static final class Owned {
        private final List<NetNamespace> namespaces = new ArrayList<>();

        synchronized NetNamespace get(int index) {
            while (namespaces.size() <= index) {
                namespaces.add(NetNamespace.create());
            }
            return namespaces.get(index);
        }

        synchronized void close() {
            for (NetNamespace ns : namespaces) {
                ns.close();
            }
            namespaces.clear();
        }
    }
}
