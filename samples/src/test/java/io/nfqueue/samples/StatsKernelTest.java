package io.nfqueue.samples;

import io.nfqueue.NetfilterQueue;
import io.nfqueue.QueueOptions;
import io.nfqueue.testing.KernelTest;
import io.nfqueue.testing.NetNamespace;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

@KernelTest
@Timeout(60)
class StatsKernelTest {
    @Test
    void printsTheQueueLineOfAnotherNamespace() {
        try (NetNamespace ns = NetNamespace.create();
             NetfilterQueue queue = NetfilterQueue.open(QueueOptions.queue(15).networkNamespace(ns.path()))) {
            SamplesUnitTest.Result r = SamplesUnitTest.run("stats", "--queue", "15", "--netns", ns.path().toString(),
                    "--count", "2", "--interval", "100ms");
            assertEquals(0, r.status(), r.err());
            List<String> lines = r.out().lines().toList();
            assertEquals(2, lines.size(), r.out());
            assertTrue(lines.get(0).contains("queue 15: port id " + queue.handle().portId()), r.out());
            assertTrue(lines.get(0).contains("0 waiting for a verdict, copy mode 2"), r.out());
            SamplesUnitTest.Result none = SamplesUnitTest.run("stats", "--queue", "16", "--netns",
                    ns.path().toString(), "--count", "1");
            assertTrue(none.out().contains("queue 16: not bound"), none.out());
        }
    }
}
