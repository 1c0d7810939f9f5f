package io.nfqueue.internal;

import java.nio.ByteBuffer;

/**
 * The calls a bound queue makes on its netlink socket, one-to-one with the native shim.
 * {@link NativeTransport} is the real one; unit tests of Java logic use a fake that writes
 * records in the same layout ({@link NativeConstants}). Calls return {@code -errno} on failure.
 *
 * <p>Threading: {@link #receive} is called by one thread at a time, {@link #sendVerdicts} by
 * one thread at a time (possibly another), {@link #wakeup} by any thread; {@link #close} only
 * after both have stopped.
 */
public interface Transport {
    /** Hands over the buffers once: rx holds {@code rx.capacity() / slotSize} datagram slots. */
    void attach(ByteBuffer rx, int slotSize, ByteBuffer records, ByteBuffer tx);

    /** Sends one CONFIG message; negative arguments are left out. With ack, the kernel's answer. */
    int configure(int queue, int command, int copyMode, int copyRange, int maxLength, int flags, int mask,
                  boolean ack);

    /** Reads what is ready without blocking; returns the number of records written. */
    int receive(int maxDatagrams);

    /** Sends {@code count} verdict records from the tx buffer; returns count. */
    int sendVerdicts(int count);

    /** Waits for readability (bit 1) or a wake-up (bit 2); 0 on timeout. */
    int await(int timeoutMillis);

    int wakeup();

    int fileDescriptor();

    int portId();

    int receiveBufferSize();

    void close();
}
