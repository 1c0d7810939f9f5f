package io.nfqueue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.List;
import java.util.OptionalInt;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(10)
class VerdictTest {

    @Test
    void kinds() {
        assertEquals(Verdict.Kind.ACCEPT, Verdict.accept().kind());
        assertEquals(Verdict.Kind.DROP, Verdict.drop().kind());
        assertEquals(Verdict.Kind.REPEAT, Verdict.repeat().kind());
        Verdict requeue = Verdict.requeue(7);
        assertEquals(Verdict.Kind.REQUEUE, requeue.kind());
        assertEquals(7, requeue.targetQueue());
        assertEquals(0, Verdict.accept().targetQueue());
        for (Verdict v : List.of(Verdict.accept(), Verdict.drop(), Verdict.repeat(), requeue)) {
            assertTrue(v.mark().isEmpty(), v + " has no mark");
            assertFalse(v.hasPayload(), v + " has no payload");
            assertNull(v.payload());
        }
    }

    @Test
    void requeueTargetIsAQueueNumber() {
        assertEquals(0, Verdict.requeue(0).targetQueue());
        assertEquals(65535, Verdict.requeue(65535).targetQueue());
        assertThrows(IllegalArgumentException.class, () -> Verdict.requeue(-1));
        assertThrows(IllegalArgumentException.class, () -> Verdict.requeue(65536));
    }

    @Test
    void withMarkIntTakesAll32Bits() {
        assertEquals(OptionalInt.of(0x10), Verdict.accept().withMark(0x10).mark());
        assertEquals(OptionalInt.of(0), Verdict.accept().withMark(0).mark());
        assertEquals(OptionalInt.of(-1), Verdict.accept().withMark(-1).mark(), "0xFFFFFFFF as an int");
        assertEquals(OptionalInt.of(Integer.MIN_VALUE), Verdict.drop().withMark(Integer.MIN_VALUE).mark());
        assertTrue(Verdict.accept().mark().isEmpty(), "the shared ACCEPT is not changed");
    }

    @Test
    void withMarkLongIsUnsigned32Bit() {
        assertEquals(OptionalInt.of(0), Verdict.accept().withMark(0L).mark());
        assertEquals(OptionalInt.of(-1), Verdict.accept().withMark(0xFFFF_FFFFL).mark());
        assertEquals(Verdict.accept().withMark(Integer.MIN_VALUE), Verdict.accept().withMark(0x8000_0000L));
        IllegalArgumentException low = assertThrows(IllegalArgumentException.class, () -> Verdict.accept().withMark(-1L));
        assertTrue(low.getMessage().contains("-1"), low.getMessage());
        IllegalArgumentException high = assertThrows(IllegalArgumentException.class,
                () -> Verdict.accept().withMark(0x1_0000_0000L));
        assertTrue(high.getMessage().contains("4294967296"), high.getMessage());
    }

    @Test
    void withersKeepWhatWasThere() {
        byte[] data = {1, 2, 3};
        Verdict v = Verdict.requeue(9).withMark(5).withPayload(data);
        assertEquals(Verdict.Kind.REQUEUE, v.kind());
        assertEquals(9, v.targetQueue());
        assertEquals(OptionalInt.of(5), v.mark());
        assertArrayEquals(data, v.payload());
        Verdict w = Verdict.repeat().withPayload(data).withMark(6);
        assertArrayEquals(data, w.payload());
        assertEquals(OptionalInt.of(6), w.mark());
        assertEquals(Verdict.Kind.REPEAT, w.kind());
    }

    @Test
    void payloadLimits() {
        assertEquals(65531, Verdict.MAX_PAYLOAD);
        assertEquals(65531, Verdict.accept().withPayload(new byte[65531]).payload().length);
        assertEquals(0, Verdict.accept().withPayload(new byte[0]).payload().length);
        IllegalArgumentException big = assertThrows(IllegalArgumentException.class,
                () -> Verdict.accept().withPayload(new byte[65532]));
        assertTrue(big.getMessage().contains("65532"), big.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Verdict.drop().withPayload(new byte[1]));
        assertThrows(IllegalArgumentException.class, () -> Verdict.drop().withMark(1).withPayload(new byte[0]));
        assertThrows(NullPointerException.class, () -> Verdict.accept().withPayload(null));
    }

    @Test
    void payloadIsCopiedInAndOut() {
        byte[] data = {1, 2, 3};
        Verdict v = Verdict.accept().withPayload(data);
        data[0] = 99;
        assertArrayEquals(new byte[] {1, 2, 3}, v.payload(), "a later change to the caller's array is not seen");
        v.payload()[1] = 99;
        assertArrayEquals(new byte[] {1, 2, 3}, v.payload(), "a change to a returned array is not seen");
    }

    @Test
    void equalsAndHashCodeByValue() {
        assertEquals(Verdict.accept().withMark(1), Verdict.accept().withMark(1));
        assertEquals(Verdict.accept().withMark(1).hashCode(), Verdict.accept().withMark(1).hashCode());
        Verdict a = Verdict.accept().withPayload(new byte[] {4, 5});
        Verdict b = Verdict.accept().withPayload(new byte[] {4, 5});
        assertEquals(a, b);
        assertEquals(a.hashCode(), b.hashCode());
        assertEquals(Verdict.requeue(3), Verdict.requeue(3));
        assertEquals(Verdict.requeue(3).hashCode(), Verdict.requeue(3).hashCode());

        assertNotEquals(Verdict.accept(), Verdict.drop());
        assertNotEquals(Verdict.requeue(1), Verdict.requeue(2));
        assertNotEquals(Verdict.accept(), Verdict.accept().withMark(0), "mark 0 is still a mark");
        assertNotEquals(Verdict.accept().withMark(1), Verdict.accept().withMark(2));
        assertNotEquals(a, Verdict.accept().withPayload(new byte[] {4, 6}));
        assertNotEquals(Verdict.accept(), Verdict.accept().withPayload(new byte[0]), "an empty payload is a payload");
        assertNotEquals(Verdict.accept(), null);
        assertNotEquals(Verdict.accept(), "ACCEPT");
    }

    @Test
    void toStringIsReadable() {
        String s = Verdict.requeue(4).withMark(0x20).withPayload(new byte[10]).toString();
        assertTrue(s.contains("REQUEUE") && s.contains("4") && s.contains("0x20") && s.contains("10"), s);
    }
}
