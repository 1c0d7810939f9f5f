/**
 * nfqueue-core: options, packets, verdicts, the blocking queue ({@link io.nfqueue.NetfilterQueue})
 * and the low-level handle ({@link io.nfqueue.BoundQueue}); packet parsing and editing in
 * {@code io.nfqueue.packet}.
 *
 * <p>The internal packages are exported only to the test kit, which runs a queue without the
 * kernel over the internal transport. The library calls native code (JNI): on JDK 24 and later,
 * run with {@code --enable-native-access=io.nfqueue} (or {@code ALL-UNNAMED} on the class path).
 */
module io.nfqueue {
    requires io.nfqueue.natives;

    exports io.nfqueue;
    exports io.nfqueue.packet;

    exports io.nfqueue.internal to io.nfqueue.test;
    exports io.nfqueue.internal.fake to io.nfqueue.test;
    exports io.nfqueue.internal.access to io.nfqueue.test;
}
