package io.nfqueue.reactor.internal;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Ends the active subscriptions when the JVM shuts down (SIGTERM, SIGINT, System.exit), so that
 * every packet they hold gets the default verdict before the process goes. Without it the
 * sockets close with the process and the kernel drops every packet they held, whatever the
 * default verdict says: a fail-open service (default ACCEPT) would drop its in-flight packets at
 * each restart. One hook for the JVM, installed with the first subscription; a program's own hook
 * that disposes the subscription does the same, and whichever comes second finds it done.
 */
final class JvmShutdown {
    private static final Set<ReceiverSubscription> ACTIVE = ConcurrentHashMap.newKeySet();
    private static volatile boolean installed;

    private JvmShutdown() {
    }

    static void register(ReceiverSubscription s) {
        install();
        ACTIVE.add(s);
    }

    static void unregister(ReceiverSubscription s) {
        ACTIVE.remove(s);
    }

    private static synchronized void install() {
        if (installed) {
            return;
        }
        try {
            Runtime.getRuntime().addShutdownHook(new Thread(JvmShutdown::endAll, "nfqueue-shutdown"));
        } catch (IllegalStateException shuttingDown) {
            // the JVM is going already: the subscription's own end is all that can happen
        }
        installed = true;
    }

    private static void endAll() {
        for (ReceiverSubscription s : ACTIVE) {
            try {
                s.shutdown();
            } catch (RuntimeException | Error e) {
                // keep going: the others' packets matter as much
                System.getLogger("io.nfqueue.reactor").log(System.Logger.Level.WARNING,
                        "ending a subscription at JVM shutdown failed", e);
            }
        }
    }
}
