package io.nfqueue.internal.fake;

import java.util.Arrays;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * One verdict record that {@link FakeTransport#sendVerdicts} read from the transmit buffer,
 * decoded from the shim's layout: what the kernel would have been told about one packet.
 *
 * @param id          the packet id
 * @param verdictCode the kernel verdict: NF_ACCEPT, NF_DROP, NF_REPEAT, or NF_QUEUE with the
 *                    target queue in bits 16-31
 * @param mark        the new mark, when the record carries one
 * @param queue       the queue the verdict is addressed to
 * @param payload     the replacement packet, when the record carries one
 * @param batch       sent as NFQNL_MSG_VERDICT_BATCH (applies to every held id up to {@code id})
 * @param connmark    the connection mark bits the verdict sets (NFQA_CT), when it carries them
 * @param connmarkMask which bits of the connection mark {@code connmark} replaces
 */
public record SentVerdict(int id, int verdictCode, OptionalInt mark, int queue, Optional<byte[]> payload,
                          boolean batch, OptionalInt connmark, int connmarkMask) {

    public SentVerdict {
        payload = payload.map(byte[]::clone);
    }

    /** A record without a connection mark. */
    public SentVerdict(int id, int verdictCode, OptionalInt mark, int queue, Optional<byte[]> payload, boolean batch) {
        this(id, verdictCode, mark, queue, payload, batch, OptionalInt.empty(), 0);
    }

    /** The verdict without the target queue bits (compare with NativeConstants.nfQueue etc.). */
    public int baseVerdict() {
        return verdictCode & 0xffff;
    }

    /** The requeue target (bits 16-31 of the code). */
    public int targetQueue() {
        return verdictCode >>> 16;
    }

    /** A copy of the replacement payload, or null. */
    public byte[] payloadBytes() {
        return payload.map(byte[]::clone).orElse(null);
    }

    @Override
    public String toString() {
        return "SentVerdict{id=" + Integer.toUnsignedString(id) + ", verdict=0x" + Integer.toHexString(verdictCode)
                + mark.stream().mapToObj(m -> ", mark=0x" + Integer.toHexString(m)).findFirst().orElse("")
                + ", queue=" + queue
                + payload.map(p -> ", payload=" + p.length + "B").orElse("")
                + (batch ? ", batch" : "") + '}';
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof SentVerdict)) {
            return false;
        }
        SentVerdict v = (SentVerdict) o;
        return id == v.id && verdictCode == v.verdictCode && mark.equals(v.mark) && queue == v.queue
                && batch == v.batch && Arrays.equals(payloadBytes(), v.payloadBytes());
    }

    @Override
    public int hashCode() {
        return ((id * 31 + verdictCode) * 31 + queue) * 31 + Arrays.hashCode(payloadBytes());
    }
}
