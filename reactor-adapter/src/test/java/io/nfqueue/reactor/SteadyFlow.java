package io.nfqueue.reactor;

import io.nfqueue.internal.fake.FakeTransport;

/**
 * A producer thread feeding a fake queue like a steady stream of traffic: it offers packets
 * with consecutive ids while the socket holds fewer than {@code maxUnread}, so the flow is paced
 * by the consumer, as a kernel queue bounded by its max-length would be. Bounded in count and time.
 */
final class SteadyFlow implements AutoCloseable {
    private final Thread thread;
    private volatile boolean stop;
    private volatile int offered;

    private SteadyFlow(FakeTransport fake, int queue, int firstId, int count, int maxUnread, long maxMillis) {
        long deadline = System.nanoTime() + maxMillis * 1_000_000L;
        this.thread = new Thread(() -> {
            for (int i = 0; i < count && !stop && System.nanoTime() < deadline; i++) {
                while (fake.unread() >= maxUnread && !stop && System.nanoTime() < deadline) {
                    Thread.onSpinWait();
                }
                fake.offer(firstId + i, queue, new byte[] {0x45, 0, 0, 20});
                offered = i + 1;
            }
        }, "steady-flow-" + queue);
        thread.setDaemon(true);
    }

    static SteadyFlow start(FakeTransport fake, int queue, int firstId, int count, int maxUnread) {
        SteadyFlow f = new SteadyFlow(fake, queue, firstId, count, maxUnread, 20_000);
        f.thread.start();
        return f;
    }

    int offered() {
        return offered;
    }

    /** Waits (bounded) for the producer to finish. */
    void join() throws InterruptedException {
        thread.join(25_000);
    }

    @Override
    public void close() throws InterruptedException {
        stop = true;
        thread.join(5_000);
    }
}
