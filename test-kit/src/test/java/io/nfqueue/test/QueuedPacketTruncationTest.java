package io.nfqueue.test;

import io.nfqueue.reactor.ReceiverOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import reactor.core.Disposable;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A packet known only by its first bytes, as a snap-length-cut capture holds it: what the pipeline sees of it. */
@Timeout(30)
class QueuedPacketTruncationTest {
    private static final byte[] WHOLE = Packets.udp().from("10.0.0.1", 1000).to("10.0.0.2", 53).payload(new byte[60]).build();

    /** "truncated payloadLength/originalLength" for each packet, through a receiver with {@code options}. */
    private static List<String> seen(ReceiverOptions options, QueuedPacket... packets) {
        TestQueue queue = TestQueue.create();
        queue.offer(packets);
        List<String> seen = Collections.synchronizedList(new ArrayList<>());
        Disposable d = queue.receive(options, in -> in.doOnNext(p -> {
            seen.add(p.isTruncated() + " " + p.payloadLength() + "/" + p.originalLength());
            p.accept();
        })).subscribe();
        try {
            assertTrue(queue.awaitVerdicts(packets.length, Duration.ofSeconds(10)), queue.toString());
        } finally {
            d.dispose();
        }
        return seen;
    }

    @Test
    void theFirstBytesArriveAsATruncatedCopyOfTheWholeLength() {
        QueuedPacket cut = QueuedPacket.of(Arrays.copyOf(WHOLE, 40), WHOLE.length);
        assertEquals(WHOLE.length, cut.originalLength());
        assertArrayEquals(Arrays.copyOf(WHOLE, 40), cut.bytes());
        assertEquals(88, WHOLE.length);
        assertEquals(List.of("true 40/88", "true 20/88", "false 88/88", "true 10/88"),
                seen(ReceiverOptions.queue(0), cut, cut.truncatedTo(20), QueuedPacket.of(WHOLE, WHOLE.length),
                        cut.truncatedTo(10)));
        // a copy range shorter still cuts further; longer cannot complete what was never captured
        assertEquals(List.of("true 16/88", "true 16/88"),
                seen(ReceiverOptions.queue(0).queueOptions(o -> o.copyRange(16)), cut, QueuedPacket.of(WHOLE)));
        assertEquals(List.of("true 40/88"), seen(ReceiverOptions.queue(0).queueOptions(o -> o.copyRange(1000)), cut));
        assertTrue(new OfferedPacket(1, 1, cut).summary().endsWith(" len=88"), new OfferedPacket(1, 1, cut).summary());
    }

    @Test
    void anOriginalLengthShorterThanTheBytesIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> QueuedPacket.of(WHOLE, 10));
        assertEquals("the original length 10 is less than the 88 bytes given", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> QueuedPacket.of(new byte[0], 10));
        assertThrows(IllegalArgumentException.class, () -> QueuedPacket.of(Arrays.copyOf(WHOLE, 40), 88).truncatedTo(40));
    }
}
