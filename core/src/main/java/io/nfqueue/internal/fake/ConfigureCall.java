package io.nfqueue.internal.fake;

/**
 * One {@code Transport.configure} call {@link FakeTransport} saw: a CONFIG message the kernel
 * would have received. Negative command, copy mode and max-length mean "left out", as in the shim.
 */
public record ConfigureCall(int queue, int command, int copyMode, int copyRange, int maxLength, int flags,
                            int mask, boolean ack) {
}
