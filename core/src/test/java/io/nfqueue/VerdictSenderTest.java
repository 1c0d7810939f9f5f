package io.nfqueue;

import io.nfqueue.internal.DefaultVerdictLog;
import io.nfqueue.internal.NativeConstants;
import io.nfqueue.internal.fake.FakeTransport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The send side alone: verdicts go out in order, in batches; after the socket closes they are counted as lost. */
@Timeout(30)
class VerdictSenderTest {
    private static final int Q = 9;
    private final NativeConstants k = NativeConstants.get();
    private final FakeTransport fake = new FakeTransport();
    private final HeldPackets held = new HeldPackets();
    private final VerdictSender sender;

    VerdictSenderTest() {
        ByteBuffer tx = ByteBuffer.allocateDirect(64 * 1024).order(ByteOrder.nativeOrder());
        fake.attach(ByteBuffer.allocateDirect(4096), 4096, ByteBuffer.allocateDirect(k.recordSize * 2), tx);
        sender = new VerdictSender(fake, new VerdictWriter(k, tx), held, Q, new DefaultVerdictLog("test"));
    }

    private Packet resolved(int id, Verdict v) {
        Packet p = new Packet(null, id, 0x0800, Hook.LOCAL_OUT, 0, 0, 0, null, null, false, false, false, 0);
        held.append(p);
        assertTrue(p.claim(v, null));
        return p;
    }

    @Test
    void pushedVerdictsGoOutInOneSendOnFlush() {
        fake.offerMany(1, 3, Q);
        fake.receive(3); // the fake kernel now holds 1..3
        sender.push(resolved(1, Verdict.accept()));
        sender.push(resolved(2, Verdict.drop()));
        sender.push(resolved(3, Verdict.accept()));
        sender.flush();
        assertEquals(1, fake.sendCalls(), "one send for all three");
        assertEquals(3, sender.sent());
        assertEquals(k.nfDrop, fake.verdictCodeFor(2));
        assertEquals("", fake.exactlyOnceProblems());
    }

    @Test
    void verdictsAfterTheSocketClosedAreCountedAsLostNotSent() {
        fake.offerMany(1, 2, Q);
        fake.receive(2);
        sender.push(resolved(1, Verdict.accept()));
        sender.sendEverything();
        sender.closeSocket(fake::close);
        sender.push(resolved(2, Verdict.accept()));
        sender.flush();
        assertEquals(1, sender.sent());
        assertEquals(1, sender.lostAtClose(), "the late verdict is counted");
        assertEquals(List.of(), fake.violations(), "nothing was sent on the closed socket");
    }
}
