package io.nfqueue;

import io.nfqueue.internal.NativeConstants;
import io.nfqueue.internal.fake.FakeTransport;
import io.nfqueue.internal.fake.SentVerdict;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Runs of plain accepts travel as one NFQNL_MSG_VERDICT_BATCH only where that is exactly what
 * the individual verdicts would have done. Checked by replaying the sent records against a model
 * of the kernel's held list, as the kernel applies them.
 */
@Timeout(120)
class BoundQueueVerdictBatchTest {
    private static final int Q = 4;
    private final NativeConstants k = NativeConstants.get();

    @Test
    void allAcceptedBecomesOneBatchRecord() {
        FakeTransport fake = new FakeTransport();
        fake.offerMany(1, 10, Q);
        try (BoundQueue queue = BoundQueue.open(QueueOptions.queue(Q), fake)) {
            assertEquals(10, queue.receive(Packet::accept, 32));
        }
        List<SentVerdict> sent = fake.sent();
        assertEquals(1, sent.size(), "one record: " + sent);
        assertTrue(sent.get(0).batch() && sent.get(0).id() == 10 && sent.get(0).baseVerdict() == k.nfAccept, sent.toString());
        assertEquals("", fake.exactlyOnceProblems());
    }

    @Test
    void aDropInTheMiddleStopsTheBatchBelowIt() {
        FakeTransport fake = new FakeTransport();
        fake.offerMany(1, 10, Q);
        try (BoundQueue queue = BoundQueue.open(QueueOptions.queue(Q), fake)) {
            queue.receive(p -> {
                if (p.id() == 5) {
                    p.drop();
                } else {
                    p.accept();
                }
            }, 32);
            Map<Integer, Integer> effective = replay(fake.sent());
            assertEquals(k.nfDrop, effective.get(5));
            for (int id = 1; id <= 10; id++) {
                if (id != 5) {
                    assertEquals(k.nfAccept, effective.get(id), "id " + id);
                }
            }
            assertTrue(fake.sent().stream().anyMatch(s -> s.batch() && s.id() == 4), fake.sent().toString());
        }
        assertEquals("", fake.exactlyOnceProblems());
    }

    @Test
    void anUnresolvedPacketIsNeverCoveredByABatch() throws Exception {
        FakeTransport fake = new FakeTransport();
        fake.offerMany(1, 10, Q);
        List<Packet> kept = new ArrayList<>();
        try (BoundQueue queue = BoundQueue.open(QueueOptions.queue(Q), fake)) {
            queue.receive(p -> {
                if (p.id() == 3) {
                    kept.add(p);
                } else {
                    p.accept();
                }
            }, 32);
            assertEquals(Set3.of(3), fake.held(), "only the kept packet is still held");
            Thread other = new Thread(() -> kept.get(0).drop());
            other.start();
            other.join(5000);
            Map<Integer, Integer> effective = replay(fake.sent());
            assertEquals(k.nfDrop, effective.get(3), "the kept packet got its own verdict");
        }
        assertEquals("", fake.exactlyOnceProblems());
    }

    /** Random verdicts, some given late from other threads in random order: the effect is always exact. */
    @Test
    void randomVerdictsFromManyThreadsHaveExactlyTheirEffect() throws Exception {
        Random random = new Random(42);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            for (int round = 0; round < 200; round++) {
                FakeTransport fake = new FakeTransport();
                int count = 1 + random.nextInt(64);
                fake.offerMany(1, count, Q);
                Map<Integer, Verdict> intended = new HashMap<>();
                List<Packet> late = Collections.synchronizedList(new ArrayList<>());
                try (BoundQueue queue = BoundQueue.open(QueueOptions.queue(Q).defaultVerdict(Verdict.accept()), fake)) {
                    int got = 0;
                    while (got < count) {
                        int n = queue.receive(p -> {
                            Verdict v = pick(random);
                            intended.put(p.id(), v);
                            if (random.nextInt(3) == 0) {
                                late.add(p);
                            } else {
                                p.verdict(v);
                            }
                        }, 1 + random.nextInt(16));
                        got += Math.max(n, 0);
                    }
                    Collections.shuffle(late, random);
                    List<Future<?>> done = new ArrayList<>();
                    for (Packet p : late) {
                        done.add(pool.submit(() -> p.verdict(intended.get(p.id()))));
                    }
                    for (Future<?> f : done) {
                        f.get(10, TimeUnit.SECONDS);
                    }
                    queue.flush();
                    Map<Integer, Integer> effective = replay(fake.sent());
                    for (int id = 1; id <= count; id++) {
                        assertEquals(code(intended.get(id)), effective.get(id),
                                "round " + round + ", id " + id + ": " + fake.sent());
                    }
                }
                assertEquals("", fake.exactlyOnceProblems(), "round " + round);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private static Verdict pick(Random random) {
        switch (random.nextInt(6)) {
            case 0:
                return Verdict.drop();
            case 1:
                return Verdict.accept().withMark(7);
            case 2:
                return Verdict.requeue(9);
            default:
                return Verdict.accept();
        }
    }

    private int code(Verdict v) {
        switch (v.kind()) {
            case DROP:
                return k.nfDrop;
            case REQUEUE:
                return k.nfQueue | (v.targetQueue() << 16);
            case REPEAT:
                return k.nfRepeat;
            default:
                return k.nfAccept;
        }
    }

    /**
     * The kernel's view: every id starts held; a verdict applies to its id if held (else the
     * kernel answers ENOENT, which fails here); a batch applies ACCEPT to every held id up to its top.
     */
    private static Map<Integer, Integer> replay(List<SentVerdict> sent) {
        Map<Integer, Integer> effective = new HashMap<>();
        LinkedHashSet<Integer> applied = new LinkedHashSet<>();
        for (SentVerdict s : sent) {
            if (s.batch()) {
                for (int id = 1; id - s.id() <= 0; id++) {
                    if (applied.add(id)) {
                        effective.put(id, s.verdictCode());
                    }
                }
            } else {
                if (!applied.add(s.id())) {
                    throw new AssertionError("id " + s.id() + " already had a verdict (the kernel would answer ENOENT): " + sent);
                }
                effective.put(s.id(), s.verdictCode());
            }
        }
        return effective;
    }

    /** Set.of that reads well next to the fake's Set<Integer>. */
    private static final class Set3 {
        static Set<Integer> of(Integer... ids) {
            return Set.of(ids);
        }
    }
}
