package io.nfqueue.internal;

import java.nio.ByteBuffer;

/** {@link Transport} over {@code libnfqueue_jni.so}: a netlink socket held as a native handle. */
public final class NativeTransport implements Transport {
    private long handle;

    private NativeTransport(long handle) {
        this.handle = handle;
    }

    /**
     * Opens a netlink socket (close-on-exec), in {@code networkNamespace} when not null.
     *
     * @throws ErrnoException naming the call that failed
     */
    public static NativeTransport open(String networkNamespace, int receiveBufferBytes, int sendBufferBytes) {
        Natives.ensureLoaded();
        return new NativeTransport(Natives.open(networkNamespace, receiveBufferBytes, sendBufferBytes));
    }

    /**
     * A handle with no socket behind it, for warming up: {@link #receive} replays {@code packets}
     * (whole IP packets, round-robin, ids counting up from 1, each with its {@code skbInfo} bits)
     * laid out as the kernel sends them for {@code queue} at {@code hook} with that copy range (0:
     * metadata only), {@code count} in all, in reads of varying size (full, one, half, none), then
     * nothing, as a socket with nothing queued; {@link #sendVerdicts} validates and encodes
     * the verdicts as for a real queue, then discards them; {@link #configure} succeeds without
     * effect; {@link #await} returns at once while packets are left. Needs no privilege.
     *
     * @throws IllegalArgumentException for a queue outside 0-65535, a hook number outside the
     *                                  inet family's, a negative copy range, or no, too many (over
     *                                  64), empty or null packets, packet info not one per
     *                                  packet, a negative count
     */
    public static NativeTransport openSynthetic(int queue, int hook, int copyRange, byte[][] packets, int[] skbInfo,
                                                long count) {
        Natives.ensureLoaded();
        return new NativeTransport(Natives.openSynthetic(queue, hook, copyRange, packets, skbInfo, count));
    }

    @Override
    public void attach(ByteBuffer rx, int slotSize, ByteBuffer records, ByteBuffer tx) {
        Natives.attach(handle, rx, slotSize, records, tx);
    }

    @Override
    public int configure(int queue, int command, int copyMode, int copyRange, int maxLength, int flags, int mask,
                         boolean ack) {
        return Natives.configure(handle, queue, command, copyMode, copyRange, maxLength, flags, mask, ack);
    }

    @Override
    public int receive(int maxDatagrams) {
        return Natives.receive(handle, maxDatagrams);
    }

    @Override
    public int sendVerdicts(int count) {
        return Natives.sendVerdicts(handle, count);
    }

    @Override
    public int await(int timeoutMillis) {
        return Natives.await(handle, timeoutMillis);
    }

    @Override
    public int wakeup() {
        return Natives.wakeup(handle);
    }

    @Override
    public int fileDescriptor() {
        return Natives.fileDescriptor(handle);
    }

    @Override
    public int portId() {
        return Natives.portId(handle);
    }

    @Override
    public int receiveBufferSize() {
        return Natives.receiveBufferSize(handle);
    }

    @Override
    public void close() {
        long h = handle;
        handle = 0;
        Natives.close(h);
    }
}
