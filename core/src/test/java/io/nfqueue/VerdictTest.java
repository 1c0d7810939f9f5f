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

    @Test
    void aFlowDecisionBecomesTheKernelVerdictOfTheQueuesModeWithTheFlowBitsInTheMark() {
        FlowOffload accept = FlowOffload.mask(0x0030_0000);
        FlowOffload repeat = accept.mode(FlowOffload.Mode.REPEAT);
        Verdict a = Verdict.acceptFlow().forFlows(accept, 0x0000_0005, false);
        assertEquals(Verdict.Kind.ACCEPT, a.kind());
        assertEquals(OptionalInt.of(0x0010_0005), a.mark(), "other programs' bits kept");
        // ACCEPT mode: the dropped flow's packet is accepted with the drop value; the save chain drops it.
        Verdict d = Verdict.dropFlow().forFlows(accept, 0x0010_0000, false);
        assertEquals(Verdict.Kind.ACCEPT, d.kind());
        assertEquals(OptionalInt.of(0x0020_0000), d.mark());
        assertEquals(Verdict.Kind.REPEAT, Verdict.acceptFlow().forFlows(repeat, 0, false).kind());
        assertEquals(Verdict.Kind.REPEAT, Verdict.dropFlow().forFlows(repeat, 0, false).kind());
        assertFalse(a.hasConnmarkUnsafe());
        assertEquals(Verdict.FlowDecision.DROP, d.flowDecision().orElseThrow());
        assertFalse(d.isPendingFlowDecision());
        assertTrue(Verdict.dropFlow().isPendingFlowDecision());
    }

    @Test
    void withTheConntrackGlueTheVerdictIsPlainAndCarriesTheConnectionMarkUnderTheMask() {
        FlowOffload repeat = FlowOffload.mask(0x0030_0000).mode(FlowOffload.Mode.REPEAT);
        Verdict d = Verdict.dropFlow().forFlows(repeat, 0, true);
        assertEquals(Verdict.Kind.DROP, d.kind());
        assertTrue(d.hasConnmarkUnsafe());
        assertEquals(0x0020_0000, d.connmarkUnsafe());
        assertEquals(0x0030_0000, d.connmarkMaskUnsafe());
        assertEquals(Verdict.Kind.ACCEPT, Verdict.acceptFlow().forFlows(repeat, 0, true).kind());
    }

    @Test
    void aMarkOnAFlowDecisionSetsTheBitsOutsideTheMaskAndAPayloadTravelsAlong() {
        FlowOffload f = FlowOffload.mask(0x0030_0000);
        Verdict v = Verdict.acceptFlow().withMark(0xff00_00ff).withPayload(new byte[] {1, 2});
        assertTrue(v.toString().startsWith("ACCEPT_FLOW"), v.toString());
        Verdict sent = v.forFlows(f, 0x7, false);
        assertEquals(OptionalInt.of(0xff10_00ff), sent.mark());
        assertArrayEquals(new byte[] {1, 2}, sent.payload());
        assertTrue(sent.toString().contains("(acceptFlow)"), sent.toString());
        assertThrows(IllegalArgumentException.class, () -> Verdict.dropFlow().withPayload(new byte[1]));
        assertNotEquals(Verdict.accept(), Verdict.acceptFlow());
        assertNotEquals(Verdict.acceptFlow(), Verdict.acceptFlow().forFlows(f, 0, false), "sent differs from pending");
    }

    @Test
    void aFlowDecisionCannotBeTheDefaultVerdict() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> QueueOptions.queue(0).defaultVerdict(
                Verdict.acceptFlow())).getMessage().contains("flow decision"));
    }
}
