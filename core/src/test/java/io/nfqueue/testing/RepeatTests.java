package io.nfqueue.testing;

import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;
import org.junit.platform.launcher.listeners.TestExecutionSummary;

import java.io.PrintWriter;

import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

/**
 * Runs test classes again and again in one JVM until one fails or the count is reached: for the
 * rare failures of race tests (bench/race-loop runs it under load).
 *
 * <pre>java -cp TEST_CLASSPATH io.nfqueue.testing.RepeatTests 300 io.nfqueue.BoundQueueRaceKernelTest ...</pre>
 *
 * Prints one line per run and, on a failure, the failure and its stack trace; exits 1 then.
 */
public final class RepeatTests {
    private RepeatTests() {
    }

    public static void main(String[] args) throws Exception {
        int runs = Integer.parseInt(args[0]);
        LauncherDiscoveryRequestBuilder builder = LauncherDiscoveryRequestBuilder.request();
        for (int i = 1; i < args.length; i++) {
            builder.selectors(selectClass(Class.forName(args[i])));
        }
        LauncherDiscoveryRequest request = builder.build();
        Launcher launcher = LauncherFactory.create();
        long start = System.nanoTime();
        for (int run = 1; run <= runs; run++) {
            SummaryGeneratingListener listener = new SummaryGeneratingListener();
            launcher.execute(request, listener);
            TestExecutionSummary summary = listener.getSummary();
            System.out.printf("run %d/%d: %d tests, %d failed, %d skipped, %.0f s so far%n", run, runs,
                    summary.getTestsFoundCount(), summary.getTotalFailureCount(), summary.getTestsSkippedCount(),
                    (System.nanoTime() - start) / 1e9);
            if (summary.getTotalFailureCount() > 0 || summary.getTestsSkippedCount() > 0) {
                summary.printFailuresTo(new PrintWriter(System.out, true), 50);
                System.exit(1);
            }
        }
        System.out.printf("all %d runs passed in %.0f s%n", runs, (System.nanoTime() - start) / 1e9);
    }
}
