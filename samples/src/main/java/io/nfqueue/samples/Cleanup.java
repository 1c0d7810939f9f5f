package io.nfqueue.samples;

import java.io.PrintStream;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Undo actions run once, newest first: by {@link #close()} on a normal or failed exit, or by a
 * JVM shutdown hook on Ctrl-C (SIGINT) or SIGTERM, whichever comes first. A failing action is
 * reported and the others still run.
 *
 * <p>{@link #make} does a set-up step and registers its undo under one lock that the shutdown
 * hook takes too: a Ctrl-C in the middle of a step waits for the step to finish (so what it
 * made is undone, not leaked), and a step after the hook ran is refused instead of made.
 */
final class Cleanup implements AutoCloseable {
    private final Deque<Action> actions = new ArrayDeque<>();
    private final PrintStream err;
    private final Thread hook;
    private volatile boolean stopping;
    private boolean done;

    private record Action(String what, Runnable undo) {
    }

    Cleanup(PrintStream err) {
        this.err = err;
        this.hook = new Thread(() -> {
            stopping = true;
            err.println();
            err.println("stopping: cleaning up");
            runAll();
        }, "nfq-demo-cleanup");
        Runtime.getRuntime().addShutdownHook(hook);
    }

    /**
     * Runs {@code make} and registers {@code undo} for what it returned, described by
     * {@code what} (e.g. "delete namespace nfq-demo-1"). {@code make} must leave nothing behind
     * when it throws.
     *
     * @throws IllegalStateException if cleaning up has begun (Ctrl-C): nothing is made
     */
    synchronized <T> T make(String what, Supplier<T> make, Consumer<? super T> undo) {
        if (done) {
            throw new IllegalStateException("stopping: set-up abandoned");
        }
        T made = make.get();
        actions.push(new Action(what, () -> undo.accept(made)));
        return made;
    }

    /** True once the JVM is shutting down (Ctrl-C, SIGTERM) and the hook has started. */
    boolean stopping() {
        return stopping;
    }

    private synchronized void runAll() {
        done = true;
        while (!actions.isEmpty()) {
            Action a = actions.pop();
            try {
                a.undo().run();
            } catch (RuntimeException e) {
                err.println("cleanup: could not " + a.what() + ": " + e.getMessage());
            }
        }
    }

    @Override
    public void close() {
        runAll();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
            // The JVM is already shutting down: the hook has run or will find nothing to do.
        }
    }
}
