package io.nfqueue;

import io.nfqueue.internal.ErrnoException;
import io.nfqueue.internal.NativeLibraryLoadException;
import io.nfqueue.internal.Natives;

import java.nio.file.Path;
import java.util.function.Supplier;

/**
 * Where the public API first touches the shim: its internal failures become the public
 * exceptions a program catches ({@link NativeLibraryUnavailableException}, the
 * {@link NfQueueException}s of {@link ErrorMapper}), so the internal package needs none of them.
 */
final class NativeAccess {
    private NativeAccess() {
    }

    /** Loads the shim, or says why it cannot. */
    static void ensureLoaded() {
        try {
            Natives.ensureLoaded();
        } catch (NativeLibraryLoadException e) {
            throw unavailable(e);
        }
    }

    /** Runs a native call that may load the library or fail with an errno, in namespace {@code netns} or none. */
    static <T> T call(Supplier<T> body, Path netns) {
        try {
            return body.get();
        } catch (NativeLibraryLoadException e) {
            throw unavailable(e);
        } catch (ErrnoException e) {
            throw ErrorMapper.map(e, netns);
        }
    }

    static NativeLibraryUnavailableException unavailable(NativeLibraryLoadException e) {
        return new NativeLibraryUnavailableException(e.getMessage(), e);
    }
}
