package io.nfqueue.testing;

import java.util.concurrent.Executor;

/**
 * The executor for the tests' blocking background tasks (a queue's run loop, a socket read):
 * a new daemon thread per task. Not the common pool, which {@code CompletableFuture.runAsync(task)}
 * uses: on JDK 25 it does so even at parallelism 1 (a machine with 2 CPUs), where JDK 17 started
 * a thread per task, so there two blocking tasks ran one after the other and the second, the
 * reader the first waited for, never started.
 */
public final class Async {
    public static final Executor THREAD_PER_TASK = task -> {
        Thread t = new Thread(task, "test-async");
        t.setDaemon(true);
        t.start();
    };

    private Async() {
    }
}
