package io.nfqueue.test;

import io.nfqueue.Packet;
import org.reactivestreams.Subscription;
import reactor.core.CoreSubscriber;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Operators;
import reactor.util.context.Context;

import java.util.function.IntConsumer;

/**
 * Tells the test queue of each packet whose {@code onNext} into the pipeline has returned: by
 * then the pipeline has done all it does on the receive thread (subscribed an inner publisher,
 * scheduled a delay), which is the point a virtual-time test may move the clock from.
 */
final class DeliveryCounter {
    private DeliveryCounter() {
    }

    static Flux<Packet> count(Flux<Packet> packets, IntConsumer delivered) {
        return packets.transform(Operators.<Packet, Packet>lift((scannable, actual) -> new Counting(actual, delivered)));
    }

    private static final class Counting implements CoreSubscriber<Packet>, Subscription {
        private final CoreSubscriber<? super Packet> actual;
        private final IntConsumer delivered;
        private Subscription upstream;

        Counting(CoreSubscriber<? super Packet> actual, IntConsumer delivered) {
            this.actual = actual;
            this.delivered = delivered;
        }

        @Override
        public Context currentContext() {
            return actual.currentContext();
        }

        @Override
        public void onSubscribe(Subscription s) {
            upstream = s;
            actual.onSubscribe(this);
        }

        @Override
        public void onNext(Packet packet) {
            int id = packet.id();
            try {
                actual.onNext(packet);
            } finally {
                delivered.accept(id);
            }
        }

        @Override
        public void onError(Throwable t) {
            actual.onError(t);
        }

        @Override
        public void onComplete() {
            actual.onComplete();
        }

        @Override
        public void request(long n) {
            upstream.request(n);
        }

        @Override
        public void cancel() {
            upstream.cancel();
        }
    }
}
