/**
 * nfqueue-reactor: {@link io.nfqueue.reactor.PacketReceiver}, a Flux of packets whose demand
 * reaches the kernel queue. Micrometer is optional: only {@code ReceiverMetrics} uses it.
 */
module io.nfqueue.reactor {
    requires transitive io.nfqueue;
    requires transitive reactor.core;
    requires transitive org.reactivestreams;
    // Optional: only ReceiverMetrics uses it, in its signatures, so a program that calls it requires
    // micrometer.core itself (javac's -Xlint:exports notes that). Not "static transitive": javac
    // would then want Micrometer on the module path of every consumer, used or not.
    requires static micrometer.core;

    exports io.nfqueue.reactor;
}
