package io.nfqueue;

import java.util.Optional;

/**
 * A second verdict for one packet: nothing was sent. When the first was a default verdict
 * ({@link #defaultCause()}), the program lost a race against the queue's own end of the packet's
 * life: close, a verdict timeout, a cancelled subscription.
 */
public class VerdictAlreadyGivenException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    private final transient DefaultVerdictCause defaultCause;

    public VerdictAlreadyGivenException(String message, DefaultVerdictCause defaultCause) {
        super(message);
        this.defaultCause = defaultCause;
    }

    /** Why the packet got the default verdict first, or empty if the program gave the first verdict. */
    public Optional<DefaultVerdictCause> defaultCause() {
        return Optional.ofNullable(defaultCause);
    }
}
