package io.nfqueue;

/**
 * {@code libnfqueue_jni.so} could not be loaded. The message says why and what to do: not
 * Linux, libnetfilter_queue or libmnl not installed (with the package to install), no native
 * jar for this architecture, or a {@code noexec} temporary directory.
 */
public class NativeLibraryUnavailableException extends NfQueueException {
    private static final long serialVersionUID = 1L;

    public NativeLibraryUnavailableException(String message, Throwable cause) {
        super(message, "load native library", 0, cause);
    }
}
