/**
 * nfqueue-test: packet builders, a queue without the kernel ({@link io.nfqueue.test.TestQueue}),
 * verdict assertions and capture files ({@code io.nfqueue.test.pcap}) for the tests of programs
 * built on nfqueue-java, and a JUnit 5 extension for tests against the kernel in network
 * namespaces ({@code io.nfqueue.test.kernel}).
 */
module io.nfqueue.test {
    requires transitive io.nfqueue;
    requires transitive io.nfqueue.reactor;
    requires transitive reactor.test;
    // Only the kernel-test extension uses JUnit (an optional dependency, as in the pom): a module
    // that uses the extension requires org.junit.jupiter.api itself, as any JUnit 5 test module does.
    requires static org.junit.jupiter.api;
    requires static org.opentest4j;

    exports io.nfqueue.test;
    exports io.nfqueue.test.kernel;
    exports io.nfqueue.test.pcap;
    // @KernelTest names the package-private KernelTestExtension, which JUnit instantiates reflectively.
    opens io.nfqueue.test.kernel to org.junit.platform.commons;
}
