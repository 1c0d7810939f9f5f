package io.nfqueue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Bad options and verdicts fail where they are written, in pure Java (no queue is opened, no
 * native library needed), with a message naming the allowed range and the value given. The
 * values just inside each bound are accepted.
 */
class QueueOptionsValidationTest {

    @Test
    void queueNumberOutsideZeroTo65535() {
        rejects(() -> QueueOptions.queue(-1), "0..65535", "-1");
        rejects(() -> QueueOptions.queue(65536), "0..65535", "65536");
        rejects(() -> QueueOptions.queue(1).queueNumber(65536), "0..65535", "65536");
        rejects(() -> Verdict.requeue(-1), "0..65535", "-1");
        rejects(() -> Verdict.requeue(65536), "0..65535", "65536");
        assertEquals(0, QueueOptions.queue(0).queueNumber());
        assertEquals(65535, QueueOptions.queue(65535).queueNumber());
        assertEquals(65535, Verdict.requeue(65535).targetQueue());
    }

    @Test
    void copyRangeOutsideOneTo65531() {
        rejects(() -> QueueOptions.queue(1).copyRange(0), "65531", "0");
        rejects(() -> QueueOptions.queue(1).copyRange(65532), "65531", "65532");
        rejects(() -> QueueOptions.queue(1).copyRange(-5), "65531", "-5");
        assertEquals(1, QueueOptions.queue(1).copyRange(1).copyRange());
        assertEquals(65531, QueueOptions.queue(1).copyRange(65531).copyRange());
    }

    @Test
    void maxLengthZeroOrAboveTheCeiling() {
        rejects(() -> QueueOptions.queue(1).maxLength(0), "max length", "0");
        rejects(() -> QueueOptions.queue(1).maxLength(QueueOptions.MAX_MAX_LENGTH + 1), "max length",
                Integer.toString(QueueOptions.MAX_MAX_LENGTH + 1));
        assertEquals(1, QueueOptions.queue(1).maxLength(1).maxLength());
    }

    @Test
    void replacementPayloadAboveTheKernelLimit() {
        rejects(() -> Verdict.accept().withPayload(new byte[65532]), "65531", "65532");
        rejects(() -> Verdict.drop().withPayload(new byte[1]), "DROP", "");
        assertEquals(65531, Verdict.accept().withPayload(new byte[65531]).payload().length);
        assertThrows(NullPointerException.class, () -> Verdict.accept().withPayload(null));
    }

    @Test
    void markOutsideUnsigned32Bits() {
        rejects(() -> Verdict.accept().withMark(-1L), "unsigned 32-bit", "-1");
        rejects(() -> Verdict.accept().withMark(0x1_0000_0000L), "unsigned 32-bit", "4294967296");
        assertEquals(-1, Verdict.accept().withMark(0xFFFF_FFFFL).mark().getAsInt());
    }

    @Test
    void otherOptions() {
        rejects(() -> QueueOptions.queue(1).socketBufferSize(4096), "65536", "4096");
        rejects(() -> QueueOptions.queue(1).batchSize(0), "1024", "0");
        rejects(() -> QueueOptions.queue(1).batchSize(1025), "1024", "1025");
        rejects(() -> QueueOptions.queue(1).verdictTimeout(Duration.ZERO), "positive", "");
        rejects(() -> QueueOptions.queue(1).verdictTimeout(Duration.ofMillis(-1)), "positive", "");
        assertThrows(NullPointerException.class, () -> QueueOptions.queue(1).copyMode(null));
        assertThrows(NullPointerException.class, () -> QueueOptions.queue(1).defaultVerdict(null));
        assertThrows(NullPointerException.class, () -> QueueOptions.queue(1).networkNamespace(null));
        assertDoesNotThrow(() -> QueueOptions.queue(1).socketBufferSize(0).socketBufferSize(65536));
    }

    /** The call throws IllegalArgumentException whose message contains both fragments. */
    private static void rejects(Executable call, String range, String value) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().contains(range) && e.getMessage().contains(value),
                "message should name '" + range + "' and '" + value + "': " + e.getMessage());
    }
}
