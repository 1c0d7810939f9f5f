package io.nfqueue.internal;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * Runs code with the calling thread inside another network namespace, then moves it back.
 * {@code setns(CLONE_NEWNET)} affects only the calling thread, and a socket stays in the
 * namespace it was created in: open sockets inside {@link #call}, use them anywhere.
 */
public final class NetworkNamespaces {
    private NetworkNamespaces() {
    }

    /** Calls {@code body} inside the namespace at {@code path} (e.g. {@code /var/run/netns/NAME}). */
    public static <T> T call(Path path, Callable<T> body) throws Exception {
        Natives.ensureLoaded();
        int original = Natives.enterNetworkNamespace(path.toString());
        try {
            return body.call();
        } finally {
            Natives.leaveNetworkNamespace(original);
        }
    }

    /** Like {@link #call} for code that throws no checked exception. */
    public static <T> T callUnchecked(Path path, Callable<T> body) {
        try {
            return call(path, body);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
