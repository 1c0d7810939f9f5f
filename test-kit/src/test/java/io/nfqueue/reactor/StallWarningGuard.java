package io.nfqueue.reactor;

import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * The same guard as the reactor adapter's own tests have (a copy: this module cannot see that
 * module's tests), for the adapter tests that run on the test kit here; each class names it with
 * {@code @ExtendWith}, since the kit's own tests strand packets on purpose. The receiver's stall
 * warning ("reading has stopped ...") must fire only in tests that strand packets on purpose
 * ({@link ExpectsStallWarning}), so a warning users will see is never noise, and a pipeline that
 * strands packets where no test meant it to is caught.
 */
public final class StallWarningGuard implements BeforeEachCallback, AfterEachCallback {
    private static final Logger LOGGER = Logger.getLogger("io.nfqueue.reactor");
    private static final List<String> WARNINGS = new CopyOnWriteArrayList<>();
    private static final Handler HANDLER = new Handler() {
        @Override
        public void publish(LogRecord r) {
            if (r.getLevel().intValue() >= Level.WARNING.intValue() && r.getMessage() != null
                    && r.getMessage().contains("reading has stopped")) {
                WARNINGS.add(r.getMessage());
            }
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };

    static {
        LOGGER.addHandler(HANDLER);
    }

    /** The stall warnings logged since this test began. */
    static List<String> warnings() {
        return List.copyOf(WARNINGS);
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        WARNINGS.clear();
    }

    @Override
    public void afterEach(ExtensionContext context) {
        ExpectsStallWarning expected = context.getRequiredTestMethod().getAnnotation(ExpectsStallWarning.class);
        if (expected == null) {
            expected = context.getRequiredTestClass().getAnnotation(ExpectsStallWarning.class);
        }
        List<String> fired = warnings();
        WARNINGS.clear();
        if (expected == null && !fired.isEmpty()) {
            throw new AssertionError("the stall warning fired in a test that does not strand packets on purpose: "
                    + fired);
        }
        if (expected != null && expected.required() && fired.isEmpty()) {
            throw new AssertionError("the stall warning did not fire");
        }
    }
}
