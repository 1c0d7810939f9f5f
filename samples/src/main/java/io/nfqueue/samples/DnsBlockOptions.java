package io.nfqueue.samples;

import picocli.CommandLine.Option;

import java.nio.file.Path;

/** dns-block's own options (a picocli mixin), the same for the live command and its replay. */
final class DnsBlockOptions {
    @Option(names = "--blocklist", required = true, paramLabel = "FILE", description = "names to block")
    Path blocklist;

    /** The blocker these options describe; a bad blocklist is a bad command line. */
    DnsBlocker blocker() {
        return DnsBlocker.load(blocklist);
    }
}
