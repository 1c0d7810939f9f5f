/**
 * nfqueue-test: packet builders, a queue without the kernel ({@link io.nfqueue.test.TestQueue}),
 * verdict assertions and capture files ({@code io.nfqueue.test.pcap}) for the tests of programs
 * built on nfqueue-java.
 */
module io.nfqueue.test {
    requires transitive io.nfqueue;
    requires transitive io.nfqueue.reactor;
    requires transitive reactor.test;

    exports io.nfqueue.test;
    exports io.nfqueue.test.pcap;
}
