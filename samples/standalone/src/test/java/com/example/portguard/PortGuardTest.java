package com.example.portguard;

import io.nfqueue.DefaultVerdictCause;
import io.nfqueue.test.Packets;
import io.nfqueue.test.TestQueue;
import org.junit.jupiter.api.Test;
import reactor.test.StepVerifier;

import java.time.Duration;
import java.util.Set;

import static io.nfqueue.test.VerdictExpectation.accepted;
import static io.nfqueue.test.VerdictExpectation.defaultVerdict;
import static io.nfqueue.test.VerdictExpectation.dropped;

/** The guard's pipeline on the test kit's queue: no root, no kernel, no JNI library needed. */
class PortGuardTest {
    private final PortGuard guard = new PortGuard(Set.of(25));

    @Test
    void eachPacketGetsTheVerdictOfItsRule() {
        TestQueue queue = TestQueue.create();
        queue.offer(Packets.udp().from("10.0.0.2", 40000).to("10.0.0.1", 53).build(),      // DNS
                Packets.tcp().from("10.0.0.2", 40001).to("10.0.0.1", 23).syn().build(),    // telnet
                Packets.tcp().from("10.0.0.2", 40002).to("10.0.0.1", 25).syn().build(),    // blocked port
                Packets.tcp().from("10.0.0.2", 40003).to("10.0.0.1", 443).syn().build());  // anything else

        StepVerifier.create(queue.receive(guard::apply))
                .expectNextCount(2)                     // DNS and HTTPS came through
                .then(() -> queue.expectVerdicts(accepted(), dropped(), defaultVerdict(DefaultVerdictCause.DISCARD),
                        accepted()))
                .thenCancel()
                .verify(Duration.ofSeconds(10));
    }
}
