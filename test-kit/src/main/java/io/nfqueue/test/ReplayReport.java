package io.nfqueue.test;

import io.nfqueue.Verdict;
import io.nfqueue.test.pcap.PcapngWriter;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;

/**
 * What a {@link CaptureReplay} did: for each packet of the capture, the verdict it got (or why
 * none); the records it skipped and why; the counts per verdict; how the pipeline ended.
 *
 * <pre>{@code
 * report.lines().forEach(System.out::println);  // one line per record, in capture order
 * System.out.println(report.summary());         // counts per verdict, skipped records, the pipeline's end
 * report.count(Verdict.Kind.DROP);              // 3
 * report.writePcapng(Path.of("verdicts.pcapng"));   // Wireshark shows each verdict as the packet comment
 * }</pre>
 *
 * <p>Immutable.
 */
public final class ReplayReport {
    /** The label {@link #verdictCounts()} counts packets without a verdict under. */
    public static final String NONE = "none";

    private final String source;
    private final String pace;
    private final List<ReplayedPacket> packets;
    private final List<SkippedRecord> skipped;
    private final String pipelineOutcome;
    private final Throwable pipelineError;
    private final Duration elapsed;

    ReplayReport(String source, String pace, List<ReplayedPacket> packets, List<SkippedRecord> skipped,
                 String pipelineOutcome, Throwable pipelineError, Duration elapsed) {
        this.source = source;
        this.pace = pace;
        this.packets = List.copyOf(packets);
        this.skipped = List.copyOf(skipped);
        this.pipelineOutcome = pipelineOutcome;
        this.pipelineError = pipelineError;
        this.elapsed = elapsed;
    }

    /** The capture file. */
    public String source() {
        return source;
    }

    /** The packets replayed, in capture order. */
    public List<ReplayedPacket> packets() {
        return packets;
    }

    /** The records skipped, in capture order. */
    public List<SkippedRecord> skipped() {
        return skipped;
    }

    /** Records in the capture: packets replayed and records skipped. */
    public long recordCount() {
        return packets.size() + skipped.size();
    }

    /** Packets whose verdict is of {@code kind}, given by the program or by default. */
    public long count(Verdict.Kind kind) {
        Objects.requireNonNull(kind, "kind");
        return packets.stream().filter(p -> p.verdict().map(v -> v.verdict().kind() == kind).orElse(false)).count();
    }

    /** Packets that got the queue's default verdict (timeout, dropped by an operator, cancel, ...). */
    public long defaultCount() {
        return packets.stream().filter(p -> p.verdict().map(v -> !v.byProgram()).orElse(false)).count();
    }

    /**
     * Packets that got no verdict at all: offered after the pipeline had ended by itself, so
     * nothing held the queue (or, on a kernel queue, that the kernel dropped at close).
     */
    public long noVerdictCount() {
        return packets.stream().filter(p -> p.verdict().isEmpty()).count();
    }

    /**
     * Packets per verdict: "ACCEPT", "DROP", ... for the program's verdicts (kind only: marks and
     * payloads are in {@link #lines()}), then "DROP by default (TIMEOUT)" and the like, then
     * {@link #NONE}; only the labels that occur.
     */
    public Map<String, Long> verdictCounts() {
        Map<Verdict.Kind, Long> byProgram = new TreeMap<>();
        Map<String, Long> byDefault = new TreeMap<>();
        long none = 0;
        for (ReplayedPacket p : packets) {
            if (p.verdict().isEmpty()) {
                none++;
            } else if (p.verdict().get().byProgram()) {
                byProgram.merge(p.verdict().get().verdict().kind(), 1L, Long::sum);
            } else {
                GivenVerdict g = p.verdict().get();
                byDefault.merge(g.verdict().kind() + " by default (" + g.defaultCause().orElseThrow() + ")", 1L, Long::sum);
            }
        }
        Map<String, Long> out = new LinkedHashMap<>();
        byProgram.forEach((k, n) -> out.put(k.name(), n));
        out.putAll(byDefault);
        if (none > 0) {
            out.put(NONE, none);
        }
        return out;
    }

    /** Records skipped, per reason, in the order the reasons first occur. */
    public Map<String, Long> skippedByReason() {
        Map<String, Long> out = new LinkedHashMap<>();
        for (SkippedRecord s : skipped) {
            out.merge(s.reason(), 1L, Long::sum);
        }
        return out;
    }

    /** "cancelled by the replay at its end" (the usual end), "completed by itself", or "failed: ...". */
    public String pipelineOutcome() {
        return pipelineOutcome;
    }

    /** The pipeline's error, when it failed. */
    public Optional<Throwable> pipelineError() {
        return Optional.ofNullable(pipelineError);
    }

    /** How long the replay took, from the first packet offered to the last verdict waited for. */
    public Duration elapsed() {
        return elapsed;
    }

    /**
     * One line per record of the capture, in file order: its number, its time since the first
     * record, and the packet's summary and verdict, or why it was skipped.
     *
     * <pre>
     * #1  +0.000000s  LOCAL_IN UDP 10.0.0.1:40000 -&gt; 10.0.0.2:53 len=57  =&gt;  ACCEPT by the program
     * #2  +0.000118s  skipped: ethertype 0x0806 (ARP)
     * </pre>
     */
    public List<String> lines() {
        Instant origin = firstTimestamp();
        List<Object> all = new ArrayList<>(packets);
        all.addAll(skipped);
        all.sort(Comparator.comparingLong(ReplayReport::indexOf));
        int width = Long.toString(recordCount()).length() + 1;
        List<String> lines = new ArrayList<>(all.size());
        for (Object o : all) {
            if (o instanceof ReplayedPacket p) {
                lines.add(String.format("%-" + width + "s  %s  %s  =>  %s", "#" + p.captureIndex(), offset(origin, p.timestamp()),
                        p.summary(), p.verdictText()));
            } else {
                SkippedRecord s = (SkippedRecord) o;
                lines.add(String.format("%-" + width + "s  %s  skipped: %s", "#" + s.captureIndex(),
                        offset(origin, s.timestamp()), s.reason()));
            }
        }
        return lines;
    }

    private static long indexOf(Object o) {
        return o instanceof ReplayedPacket p ? p.captureIndex() : ((SkippedRecord) o).captureIndex();
    }

    private Instant firstTimestamp() {
        Instant first = null;
        for (ReplayedPacket p : packets) {
            first = earlier(first, p.timestamp());
        }
        for (SkippedRecord s : skipped) {
            first = earlier(first, s.timestamp());
        }
        return first;
    }

    private static Instant earlier(Instant a, Optional<Instant> b) {
        return b.isEmpty() ? a : a == null || b.get().isBefore(a) ? b.get() : a;
    }

    private static String offset(Instant origin, Optional<Instant> t) {
        if (origin == null || t.isEmpty()) {
            return "(no time) ";
        }
        Duration d = Duration.between(origin, t.get());
        return String.format(Locale.ROOT, "+%d.%06ds", d.getSeconds(), d.getNano() / 1000);
    }

    /**
     * The counts, one paragraph: "12 packets replayed from capture.pcap at maximum speed in 0.4 s:
     * ACCEPT 8, DROP 3, DROP by default (TIMEOUT) 1; 2 records skipped: ethertype 0x0806 (ARP) 2;
     * the pipeline was cancelled by the replay at its end".
     */
    public String summary() {
        StringBuilder s = new StringBuilder();
        s.append(packets.size()).append(packets.size() == 1 ? " packet" : " packets").append(" replayed from ").append(source)
                .append(' ').append(pace).append(String.format(Locale.ROOT, " in %.1f s", elapsed.toMillis() / 1000.0));
        Map<String, Long> counts = verdictCounts();
        if (!counts.isEmpty()) {
            s.append(": ").append(join(counts));
        }
        if (!skipped.isEmpty()) {
            s.append("; ").append(skipped.size()).append(skipped.size() == 1 ? " record" : " records").append(" skipped: ")
                    .append(join(skippedByReason()));
        }
        return s.append("; the pipeline ").append(pipelineOutcome).toString();
    }

    private static String join(Map<String, Long> counts) {
        StringBuilder s = new StringBuilder();
        counts.forEach((k, n) -> s.append(s.length() == 0 ? "" : ", ").append(k).append(' ').append(n));
        return s.toString();
    }

    /**
     * Writes the packets replayed to a pcapng file, each with its verdict as the packet comment
     * ("capture record 5: DROP by the program"), its capture timestamp, original length and
     * direction; Wireshark shows the comments (and {@code tshark -Y 'frame.comment contains "DROP"'}
     * filters on them). Records that were skipped hold no IP packet and are not written.
     */
    public void writePcapng(Path file) throws IOException {
        Objects.requireNonNull(file, "file");
        try (PcapngWriter out = PcapngWriter.create(file)) {
            write(out);
        }
    }

    /** {@link #writePcapng(Path)} to a stream, which is closed afterwards. */
    public void writePcapng(OutputStream stream) throws IOException {
        Objects.requireNonNull(stream, "stream");
        try (PcapngWriter out = PcapngWriter.create(stream)) {
            write(out);
        }
    }

    private void write(PcapngWriter out) throws IOException {
        for (ReplayedPacket p : packets) {
            out.write(p.captured(), "capture record " + p.captureIndex() + ": " + p.verdictText());
        }
    }

    @Override
    public String toString() {
        return String.join("\n", lines()) + (recordCount() == 0 ? "" : "\n") + summary();
    }
}
