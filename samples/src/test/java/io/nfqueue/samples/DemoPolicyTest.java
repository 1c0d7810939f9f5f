package io.nfqueue.samples;

import io.nfqueue.Hook;
import io.nfqueue.test.Packets;
import io.nfqueue.test.QueuedPacket;
import io.nfqueue.test.TestQueue;
import io.nfqueue.test.VerdictExpectation;
import org.junit.jupiter.api.Test;
import reactor.test.StepVerifier;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static io.nfqueue.test.VerdictExpectation.accepted;
import static io.nfqueue.test.VerdictExpectation.dropped;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The demo's pipeline without its namespaces: the policy (firewall, then rate limiter) as the
 * demo receives with it (its receiver options, {@code receiver.process(policy::decide)}), on the
 * test kit's queue, with the scenario's addresses and rules. What the demo shows live, packet by
 * packet, and no root needed: {@link DemoKernelTest} runs the real thing.
 */
class DemoPolicyTest {
    private final List<QueuedPacket> packets = new ArrayList<>();
    private final List<VerdictExpectation> expected = new ArrayList<>();

    /** {@code count} datagrams from {@code source} to the server's {@code port}, as the INPUT rule queues them. */
    private void send(String source, int port, int count, VerdictExpectation each) {
        for (int i = 0; i < count; i++) {
            packets.add(QueuedPacket.of(Packets.udp().from(source, 40000).to(DemoScenario.SERVER, port)
                    .payload(source + ":" + port + " #" + i).build()).hook(Hook.LOCAL_IN));
            expected.add(each);
        }
    }

    @Test
    void eachFlowGetsWhatTheScenarioSays() {
        int burst = DemoScenario.LIMIT_BURST;
        // The closed port first: the firewall drops those, and they cost the client no token.
        send(DemoScenario.STEADY, DemoScenario.CLOSED_PORT, burst, dropped());
        send(DemoScenario.STEADY, DemoScenario.OPEN_PORT, burst, accepted().unchanged());
        send(DemoScenario.FLOODER, DemoScenario.OPEN_PORT, burst, accepted().unchanged());
        send(DemoScenario.FLOODER, DemoScenario.OPEN_PORT, 5, dropped());   // over the rate
        send(DemoScenario.BLOCKED, DemoScenario.OPEN_PORT, 5, dropped());
        send(DemoScenario.TAGGED, DemoScenario.OPEN_PORT, 5, accepted().withMark(DemoScenario.MARK));

        TestQueue queue = TestQueue.create(DemoScenario.QUEUE);
        FirewallThenLimiter policy = DemoScenario.policy(() -> 0L);   // no time passes: no token comes back
        DemoCounters counters = new DemoCounters();
        queue.offer(packets.toArray(new QueuedPacket[0]));

        StepVerifier.create(queue.receiver(DemoScenario.receiverOptions()).process(policy::decide)
                        .doOnNext(counters::count)
                        .take(packets.size()))
                .expectNextCount(packets.size())
                .expectComplete()
                .verify(Duration.ofSeconds(30));

        queue.expectVerdicts(expected.toArray(new VerdictExpectation[0]));
        assertEquals(2 * burst + 5, counters.accepted());
        assertEquals(burst + 10, counters.dropped());
        List<Long> hits = policy.firewall().rules().rules().stream().map(r -> r.hits().get()).toList();
        assertEquals(List.of((long) burst, 5L, 5L), hits, policy.firewall().report());
        assertEquals(5, policy.limiter().limited.get(), policy.limiter().report());
    }
}
