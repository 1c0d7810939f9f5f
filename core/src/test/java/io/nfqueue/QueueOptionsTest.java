package io.nfqueue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.function.Executable;

import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(10)
class QueueOptionsTest {

    @Test
    void defaultsAreTheDocumentedOnes() {
        QueueOptions o = QueueOptions.queue(5);
        assertEquals(5, o.queueNumber());
        assertEquals(CopyMode.PACKET, o.copyMode());
        assertEquals(QueueOptions.MAX_COPY_RANGE, o.copyRange());
        assertEquals(65531, QueueOptions.MAX_COPY_RANGE, "the kernel's limit: 0xffff minus the attribute header");
        assertEquals(1024, o.maxLength(), "the kernel's default max-length");
        assertEquals(0, o.socketBufferSize(), "automatic");
        assertFalse(o.failOpen());
        assertTrue(o.gso(), "GSO on, as libnetfilter_queue advises");
        assertFalse(o.conntrack());
        assertFalse(o.uidGid());
        assertFalse(o.securityContext());
        assertEquals(Verdict.drop(), o.defaultVerdict(), "fail-closed, like the kernel");
        assertTrue(o.verdictTimeout().isEmpty());
        assertTrue(o.networkNamespace().isEmpty());
        assertTrue(o.batchSize() >= 1 && o.batchSize() <= QueueOptions.MAX_BATCH_SIZE);
    }

    @Test
    void queueNumberBounds() {
        assertEquals(0, QueueOptions.queue(0).queueNumber());
        assertEquals(65535, QueueOptions.queue(65535).queueNumber());
        assertRefused(() -> QueueOptions.queue(-1), "-1");
        assertRefused(() -> QueueOptions.queue(65536), "65536");
        assertRefused(() -> QueueOptions.queue(1).queueNumber(-1), "-1");
        assertRefused(() -> QueueOptions.queue(1).queueNumber(65536), "65536");
        assertEquals(65535, QueueOptions.queue(1).queueNumber(65535).queueNumber());
    }

    @Test
    void copyRangeBounds() {
        QueueOptions o = QueueOptions.queue(1);
        assertEquals(1, o.copyRange(1).copyRange());
        assertEquals(65531, o.copyRange(65531).copyRange());
        assertRefused(() -> o.copyRange(0), "0");
        assertRefused(() -> o.copyRange(65532), "65532");
        assertRefused(() -> o.copyRange(-5), "-5");
    }

    @Test
    void maxLengthBounds() {
        QueueOptions o = QueueOptions.queue(1);
        assertEquals(1, o.maxLength(1).maxLength());
        assertEquals(QueueOptions.MAX_MAX_LENGTH, o.maxLength(QueueOptions.MAX_MAX_LENGTH).maxLength());
        assertRefused(() -> o.maxLength(0), "0");
        assertRefused(() -> o.maxLength(-1), "-1");
        assertRefused(() -> o.maxLength(QueueOptions.MAX_MAX_LENGTH + 1), String.valueOf(QueueOptions.MAX_MAX_LENGTH + 1));
    }

    @Test
    void socketBufferSizeBounds() {
        QueueOptions o = QueueOptions.queue(1);
        assertEquals(0, o.socketBufferSize(0).socketBufferSize());
        assertEquals(65536, o.socketBufferSize(65536).socketBufferSize());
        assertRefused(() -> o.socketBufferSize(1000), "1000");
        assertRefused(() -> o.socketBufferSize(65535), "65535");
        assertRefused(() -> o.socketBufferSize(-1), "-1");
    }

    @Test
    void verdictTimeoutMustBePositive() {
        QueueOptions o = QueueOptions.queue(1);
        assertEquals(Duration.ofMillis(1), o.verdictTimeout(Duration.ofMillis(1)).verdictTimeout().orElseThrow());
        assertEquals(Duration.ofNanos(1), o.verdictTimeout(Duration.ofNanos(1)).verdictTimeout().orElseThrow());
        assertRefused(() -> o.verdictTimeout(Duration.ZERO), "PT0S");
        assertRefused(() -> o.verdictTimeout(Duration.ofMillis(-1)), "-0.001");
    }

    @Test
    void batchSizeBounds() {
        QueueOptions o = QueueOptions.queue(1);
        assertEquals(1, o.batchSize(1).batchSize());
        assertEquals(1024, o.batchSize(1024).batchSize());
        assertRefused(() -> o.batchSize(0), "0");
        assertRefused(() -> o.batchSize(1025), "1025");
    }

    /** Null is a programming error: NullPointerException (Java's convention), naming the option. */
    @Test
    void nullsAreRefusedNamingTheOption() {
        QueueOptions o = QueueOptions.queue(1);
        assertNullRefused(() -> o.copyMode(null), "copyMode");
        assertNullRefused(() -> o.defaultVerdict(null), "defaultVerdict");
        assertNullRefused(() -> o.verdictTimeout(null), "verdictTimeout");
        assertNullRefused(() -> o.networkNamespace(null), "networkNamespace");
    }

    @Test
    void everyWitherReturnsANewInstanceAndChangesOnlyItsOwnField() {
        QueueOptions base = QueueOptions.queue(3).copyMode(CopyMode.META).copyRange(128).maxLength(77)
                .socketBufferSize(1 << 17).failOpen(true).gso(false).conntrack(true).uidGid(true)
                .securityContext(true).defaultVerdict(Verdict.accept().withMark(9))
                .verdictTimeout(Duration.ofSeconds(3)).networkNamespace(Path.of("/var/run/netns/a")).batchSize(7);
        Map<String, Object> before = snapshot(base);
        Map<String, UnaryOperator<QueueOptions>> withers = new LinkedHashMap<>();
        withers.put("queueNumber", o -> o.queueNumber(4));
        withers.put("copyMode", o -> o.copyMode(CopyMode.NONE));
        withers.put("copyRange", o -> o.copyRange(129));
        withers.put("maxLength", o -> o.maxLength(78));
        withers.put("socketBufferSize", o -> o.socketBufferSize(1 << 18));
        withers.put("failOpen", o -> o.failOpen(false));
        withers.put("gso", o -> o.gso(true));
        withers.put("conntrack", o -> o.conntrack(false));
        withers.put("uidGid", o -> o.uidGid(false));
        withers.put("securityContext", o -> o.securityContext(false));
        withers.put("defaultVerdict", o -> o.defaultVerdict(Verdict.repeat()));
        withers.put("verdictTimeout", o -> o.verdictTimeout(Duration.ofSeconds(4)));
        withers.put("networkNamespace", o -> o.networkNamespace(Path.of("/var/run/netns/b")));
        withers.put("batchSize", o -> o.batchSize(8));
        assertEquals(before.keySet(), withers.keySet(), "a wither per field");
        for (Map.Entry<String, UnaryOperator<QueueOptions>> w : withers.entrySet()) {
            QueueOptions changed = w.getValue().apply(base);
            assertNotSame(base, changed, w.getKey());
            assertEquals(before, snapshot(base), "the original is unchanged by " + w.getKey());
            Map<String, Object> after = snapshot(changed);
            for (String field : before.keySet()) {
                if (field.equals(w.getKey())) {
                    assertFalse(before.get(field).equals(after.get(field)), field + " changed");
                } else {
                    assertEquals(before.get(field), after.get(field), w.getKey() + " kept " + field);
                }
            }
        }
    }

    @Test
    void refusedValueLeavesTheOriginalUsable() {
        QueueOptions o = QueueOptions.queue(2).maxLength(10);
        assertRefused(() -> o.maxLength(0), "0");
        assertEquals(10, o.maxLength());
    }

    @Test
    void explicitSocketBufferSizeIsUsedAsIs() {
        assertEquals(1 << 20, QueueOptions.queue(1).socketBufferSize(1 << 20).effectiveSocketBufferSize());
        assertEquals(65536, QueueOptions.queue(1).maxLength(100_000).socketBufferSize(65536).effectiveSocketBufferSize());
    }

    @Test
    void automaticSocketBufferHoldsMaxLengthPacketsWithinBounds() {
        int min = 1 << 20;
        int max = 256 << 20;
        // Small: the floor.
        assertEquals(min, QueueOptions.queue(1).copyRange(1).maxLength(1).effectiveSocketBufferSize());
        // Huge: the ceiling.
        assertEquals(max, QueueOptions.queue(1).maxLength(QueueOptions.MAX_MAX_LENGTH).effectiveSocketBufferSize());
        // In between: room for max-length packets of the copy range.
        QueueOptions mid = QueueOptions.queue(1).copyRange(1500).maxLength(2048);
        int size = mid.effectiveSocketBufferSize();
        assertTrue(size >= 1500L * 2048 && size <= max, "size " + size);
        // Metadata only needs less than whole packets.
        assertTrue(mid.copyMode(CopyMode.META).effectiveSocketBufferSize() < size);
        for (int range : new int[] {1, 64, 1500, 9000, 65531}) {
            for (int len : new int[] {1, 16, 1024, 4096, 100_000, QueueOptions.MAX_MAX_LENGTH}) {
                for (CopyMode mode : CopyMode.values()) {
                    int s = QueueOptions.queue(1).copyMode(mode).copyRange(range).maxLength(len)
                            .effectiveSocketBufferSize();
                    assertTrue(s >= min && s <= max, mode + " " + range + "x" + len + " -> " + s);
                    long wanted = (long) (mode == CopyMode.PACKET ? range : 0) * len;
                    assertTrue(s >= Math.min(wanted, max), mode + " " + range + "x" + len + " -> " + s);
                }
            }
        }
    }

    @Test
    void toStringNamesTheQueue() {
        assertTrue(QueueOptions.queue(42).toString().contains("42"));
    }

    private static Map<String, Object> snapshot(QueueOptions o) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("queueNumber", o.queueNumber());
        m.put("copyMode", o.copyMode());
        m.put("copyRange", o.copyRange());
        m.put("maxLength", o.maxLength());
        m.put("socketBufferSize", o.socketBufferSize());
        m.put("failOpen", o.failOpen());
        m.put("gso", o.gso());
        m.put("conntrack", o.conntrack());
        m.put("uidGid", o.uidGid());
        m.put("securityContext", o.securityContext());
        m.put("defaultVerdict", o.defaultVerdict());
        m.put("verdictTimeout", o.verdictTimeout());
        m.put("networkNamespace", o.networkNamespace());
        m.put("batchSize", o.batchSize());
        return m;
    }

    private static void assertRefused(Executable call, String value) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage() != null && e.getMessage().contains(value),
                "message names the refused value " + value + ": " + e.getMessage());
    }

    private static void assertNullRefused(Executable call, String option) {
        NullPointerException e = assertThrows(NullPointerException.class, call);
        assertTrue(e.getMessage() != null && e.getMessage().contains(option),
                "message names " + option + ": " + e.getMessage());
    }
}
