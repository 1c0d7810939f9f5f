package io.nfqueue.reactor;

import io.nfqueue.BoundQueue;
import io.nfqueue.QueueOptions;
import io.nfqueue.internal.NativeConstants;
import io.nfqueue.internal.access.TransportBinding;
import io.nfqueue.internal.fake.ConfigureCall;
import io.nfqueue.internal.fake.FakeTransport;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The binder a {@link PacketReceiver} under test uses instead of the kernel: every binding gets
 * its own {@link FakeTransport} (a real binding is a new socket), which a test may prepare
 * before subscribing ({@link #next}) and inspect afterwards ({@link #last}, {@link #all}).
 */
final class FakeQueues implements Function<QueueOptions, BoundQueue> {
    private final Map<Integer, ArrayDeque<FakeTransport>> prepared = new HashMap<>();
    private final List<FakeTransport> bound = new ArrayList<>();
    private final Map<FakeTransport, Integer> queueOf = new HashMap<>();

    /** A receiver over these fakes. */
    PacketReceiver receiver(ReceiverOptions options) {
        return PacketReceiver.create(options, this);
    }

    /** The fake the next binding of {@code queue} will use (offer packets into it before subscribing). */
    synchronized FakeTransport next(int queue) {
        ArrayDeque<FakeTransport> q = prepared.computeIfAbsent(queue, n -> new ArrayDeque<>());
        if (q.isEmpty()) {
            q.add(new FakeTransport());
        }
        return q.peekLast();
    }

    /** Prepares one more fake for a later binding of {@code queue}, after those already prepared. */
    synchronized FakeTransport prepareAnother(int queue) {
        FakeTransport f = new FakeTransport();
        prepared.computeIfAbsent(queue, n -> new ArrayDeque<>()).add(f);
        return f;
    }

    @Override
    public BoundQueue apply(QueueOptions options) {
        FakeTransport fake;
        synchronized (this) {
            ArrayDeque<FakeTransport> q = prepared.get(options.queueNumber());
            fake = q == null || q.isEmpty() ? new FakeTransport() : q.poll();
            bound.add(fake);
            queueOf.put(fake, options.queueNumber());
        }
        return TransportBinding.open(options, fake);
    }

    /** The fake of the latest binding of {@code queue}. */
    synchronized FakeTransport last(int queue) {
        for (int i = bound.size() - 1; i >= 0; i--) {
            if (queueOf.get(bound.get(i)) == queue) {
                return bound.get(i);
            }
        }
        throw new AssertionError("queue " + queue + " was never bound");
    }

    /** Every fake bound so far, in binding order. */
    synchronized List<FakeTransport> all() {
        return List.copyOf(bound);
    }

    synchronized int bindings() {
        return bound.size();
    }

    /** "" when every packet offered to any binding got exactly one verdict, else what went wrong. */
    String exactlyOnceProblems() {
        StringBuilder s = new StringBuilder();
        for (FakeTransport f : all()) {
            String p = f.exactlyOnceProblems();
            if (!p.isEmpty()) {
                s.append(f).append(":\n").append(p);
            }
            if (!f.heldAtClose().isEmpty()) {
                s.append(f).append(": the kernel still held ").append(f.heldAtClose().size())
                        .append(" packets when the socket closed (dropped by unbind, not by our verdict)\n");
            }
        }
        return s.toString();
    }

    /** Transport threading-contract breaches over all bindings. */
    List<String> violations() {
        List<String> v = new ArrayList<>();
        for (FakeTransport f : all()) {
            v.addAll(f.violations());
        }
        return v;
    }

    /** The max-length changes (config messages after the bind) a fake received, in order. */
    static List<Integer> maxLengthChanges(FakeTransport fake) {
        int bind = NativeConstants.get().cmdBind;
        List<Integer> lengths = new ArrayList<>();
        for (ConfigureCall c : fake.configureCalls()) {
            if (c.command() != bind && c.maxLength() >= 0) {
                lengths.add(c.maxLength());
            }
        }
        return lengths;
    }

    /** The max-length the kernel has now: the last change, or the bind's. */
    static int currentMaxLength(FakeTransport fake) {
        int length = -1;
        for (ConfigureCall c : fake.configureCalls()) {
            if (c.maxLength() >= 0) {
                length = c.maxLength();
            }
        }
        return length;
    }
}
