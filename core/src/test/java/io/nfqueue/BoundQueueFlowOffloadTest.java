package io.nfqueue;

import io.nfqueue.internal.NativeConstants;
import io.nfqueue.internal.fake.ConfigureCall;
import io.nfqueue.internal.fake.FakePacket;
import io.nfqueue.internal.fake.FakeTransport;
import io.nfqueue.internal.fake.SentVerdict;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Flow decisions from the packet to the verdict record, and the GLUE_CT probe at bind, over {@link FakeTransport}. */
@Timeout(30)
class BoundQueueFlowOffloadTest {
    private static final int Q = 3;
    private static final FlowOffload FLOWS = FlowOffload.mask(0x0030_0000);
    private final NativeConstants k = NativeConstants.get();
    private final FakeTransport fake = new FakeTransport();
    private BoundQueue queue;

    @AfterEach
    void tearDown() {
        if (queue != null) {
            queue.close();
        }
        assertEquals(List.of(), fake.violations(), "Transport contract");
    }

    private Packet first(int mark) {
        fake.offer(FakePacket.of(1, Q).mark(mark).payload(new byte[20]));
        List<Packet> got = new ArrayList<>();
        queue.receive(got::add, 1);
        return got.get(0);
    }

    @Test
    void withoutTheGlueTheProbeFallsBackToThePacketMarkAndBindsAnyway() {
        fake.withoutConntrackGlue();
        queue = BoundQueue.open(QueueOptions.queue(Q).flowOffload(FLOWS), fake);
        assertFalse(queue.connmarkByVerdict());
        List<ConfigureCall> calls = fake.configureCalls();
        assertEquals(2, calls.size(), "the probe, then the bind without the conntrack flag: " + calls);
        assertTrue((calls.get(0).flags() & k.flagConntrack) != 0);
        assertEquals(0, calls.get(1).flags() & k.flagConntrack);

        first(0x5).acceptFlow();
        queue.flush();
        SentVerdict v = fake.sent().get(0);
        assertEquals(k.nfAccept, v.verdictCode());
        assertEquals(OptionalInt.of(0x0010_0005), v.mark(), "the accept value under the mask, other bits kept");
        assertTrue(v.connmark().isEmpty());
    }

    @Test
    void repeatModeSendsRepeatWithTheDropValue() {
        fake.withoutConntrackGlue();
        queue = BoundQueue.open(QueueOptions.queue(Q).flowOffload(FLOWS.mode(FlowOffload.Mode.REPEAT)), fake);
        first(0x0010_0000).dropFlow();
        queue.flush();
        SentVerdict v = fake.sent().get(0);
        assertEquals(k.nfRepeat, v.verdictCode());
        assertEquals(OptionalInt.of(0x0020_0000), v.mark());
    }

    @Test
    void withTheGlueTheVerdictCarriesTheConnectionMarkAndIsPlain() {
        queue = BoundQueue.open(QueueOptions.queue(Q).flowOffload(FLOWS.mode(FlowOffload.Mode.REPEAT)), fake);
        assertTrue(queue.connmarkByVerdict());
        assertEquals(1, fake.configureCalls().size());
        first(0).dropFlow();
        queue.flush();
        SentVerdict v = fake.sent().get(0);
        assertEquals(k.nfDrop, v.verdictCode());
        assertEquals(OptionalInt.of(0x0020_0000), v.connmark());
        assertEquals(0x0030_0000, v.connmarkMask());
    }

    @Test
    void aFlowDecisionOnAQueueWithoutFlowsIsRefusedAndThePacketStaysOpen() {
        queue = BoundQueue.open(QueueOptions.queue(Q), fake);
        assertFalse(queue.connmarkByVerdict());
        Packet p = first(0);
        IllegalStateException e = assertThrows(IllegalStateException.class, p::acceptFlow);
        assertTrue(e.getMessage().contains("QueueOptions.flowOffload"), e.getMessage());
        assertFalse(p.isResolved());
        p.accept();
        queue.flush();
        assertEquals(k.nfAccept, fake.sent().get(0).verdictCode());
        assertTrue(fake.sent().get(0).mark().isEmpty());
    }

    @Test
    void flowVerdictsAreNeverFoldedIntoABatchAccept() {
        fake.withoutConntrackGlue();
        queue = BoundQueue.open(QueueOptions.queue(Q).flowOffload(FLOWS), fake);
        fake.offerMany(1, 4, Q);
        List<Packet> got = new ArrayList<>();
        queue.receive(got::add, 4);
        got.get(0).accept();
        got.get(1).acceptFlow();
        got.get(2).accept();
        got.get(3).accept();
        queue.flush();
        List<SentVerdict> sent = fake.sent();
        assertTrue(sent.stream().anyMatch(s -> s.id() == 2 && !s.batch() && s.mark().equals(OptionalInt.of(0x0010_0000))),
                sent.toString());
        assertTrue(sent.stream().noneMatch(s -> s.batch() && s.mark().isPresent()), sent.toString());
    }
}
