package io.nfqueue.samples;

import io.nfqueue.Hook;
import io.nfqueue.reactor.ReceiverOptions;
import io.nfqueue.test.CaptureReplay;
import io.nfqueue.test.ReplayReport;
import io.nfqueue.test.UnsupportedLinkTypeException;
import io.nfqueue.test.pcap.CaptureFormatException;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.PrintStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * The replay command's work: a capture through a sample's pipeline on the test kit's queue
 * ({@link CaptureReplay}), one line per record, the counts, the sample's own counters, and the
 * verdict file if asked for. A capture file that cannot be replayed is a bad command line (as a
 * bad rules file is), with what was found.
 *
 * @param pcap    the capture
 * @param speed   0: maximum; else the factor recorded gaps are divided by
 * @param hook    the hook of every packet, or null: from each packet's recorded direction
 * @param outFile where to write the packets with their verdicts (pcapng), or null
 */
record ReplayRun(Path pcap, double speed, Hook hook, Path outFile) {
    void run(SamplePipeline sample, PrintStream out) throws InterruptedException {
        CaptureReplay replay = CaptureReplay.of(pcap)
                .receiverOptions(ReceiverOptions.queue(0).defaultVerdict(sample.defaultVerdict()));
        replay = speed == 0 ? replay.atMaximumSpeed() : replay.atSpeed(speed);
        if (hook != null) {
            replay = replay.hook(hook);
        }
        out.println("replaying " + pcap + " through " + sample.command() + ": " + sample.banner().get());
        ReplayReport report;
        try {
            report = replay.run(sample.pipeline());
        } catch (InterruptedIOException e) {
            throw new InterruptedException(e.getMessage());
        } catch (NoSuchFileException e) {
            throw new UsageException("--pcap: no capture file at " + pcap);
        } catch (AccessDeniedException e) {
            throw new UsageException("--pcap: cannot read " + pcap + ": permission denied");
        } catch (CaptureFormatException | UnsupportedLinkTypeException e) {
            throw new UsageException("--pcap: " + e.getMessage());
        } catch (IOException e) {
            throw new UsageException("--pcap: cannot read " + pcap + ": " + e.getMessage());
        }
        for (String line : report.lines()) {
            out.println(AddressText.compactIpv6(line));
        }
        out.println(report.summary());
        out.println(sample.report().get());
        if (outFile != null) {
            try {
                report.writePcapng(outFile);
            } catch (IOException e) {
                throw new IllegalStateException("--out: cannot write " + outFile + ": " + e, e);
            }
            out.println("wrote " + outFile + ": " + Main.count(report.packets().size(), "packet")
                    + ", each with its verdict as the packet comment");
        }
        if (report.pipelineError().isPresent()) {
            throw new IllegalStateException("the pipeline failed: " + report.pipelineError().get());
        }
    }
}
