package io.nfqueue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * How to bind one NFQUEUE: immutable; each wither validates its argument at once and returns a
 * new instance, so a bad option fails where it is written, before any native call.
 *
 * <pre>{@code
 * QueueOptions options = QueueOptions.queue(1)
 *         .copyRange(256)                 // headers are enough
 *         .maxLength(4096)
 *         .failOpen(true)                 // accept uninspected when the queue is full
 *         .defaultVerdict(Verdict.accept())
 *         .networkNamespace(Path.of("/var/run/netns/edge"));
 * }</pre>
 *
 * <p>Defaults: copy mode PACKET with the whole packet (65 531 bytes), max-length 1024 (the
 * kernel's default), GSO on (as libnetfilter_queue advises: without it the kernel segments in
 * software), fail-open, conntrack, uid/gid and security context off, default verdict DROP (the
 * kernel's own fail-closed behaviour), no verdict timeout, the receive buffer sized for
 * max-length packets of the copy range.
 */
public final class QueueOptions {
    /** Largest copy range the kernel honours; larger values (and 0) mean the same. */
    public static final int MAX_COPY_RANGE = 65531;
    /** Upper bound accepted for max-length: beyond it the receive buffer could not follow. */
    public static final int MAX_MAX_LENGTH = 1 << 20;
    /** Bounds of the receive batch (datagrams read per call). */
    public static final int MAX_BATCH_SIZE = 1024;

    private final int queueNumber;
    private final CopyMode copyMode;
    private final int copyRange;
    private final int maxLength;
    private final int socketBufferSize;
    private final boolean failOpen;
    private final boolean gso;
    private final boolean conntrack;
    private final boolean uidGid;
    private final boolean securityContext;
    private final Verdict defaultVerdict;
    private final Duration verdictTimeout;
    private final Path networkNamespace;
    private final int batchSize;
    private final Ticker ticker;
    private final FlowOffload flowOffload;

    private QueueOptions(int queueNumber, CopyMode copyMode, int copyRange, int maxLength, int socketBufferSize,
                         boolean failOpen, boolean gso, boolean conntrack, boolean uidGid, boolean securityContext,
                         Verdict defaultVerdict, Duration verdictTimeout, Path networkNamespace, int batchSize,
                         Ticker ticker, FlowOffload flowOffload) {
        this.queueNumber = queueNumber;
        this.copyMode = copyMode;
        this.copyRange = copyRange;
        this.maxLength = maxLength;
        this.socketBufferSize = socketBufferSize;
        this.failOpen = failOpen;
        this.gso = gso;
        this.conntrack = conntrack;
        this.uidGid = uidGid;
        this.securityContext = securityContext;
        this.defaultVerdict = defaultVerdict;
        this.verdictTimeout = verdictTimeout;
        this.networkNamespace = networkNamespace;
        this.batchSize = batchSize;
        this.ticker = ticker;
        this.flowOffload = flowOffload;
    }

    /** Options for queue {@code number} (0..65535) with the defaults above. */
    public static QueueOptions queue(int number) {
        checkQueueNumber(number);
        return new QueueOptions(number, CopyMode.PACKET, MAX_COPY_RANGE, 1024, 0, false, true, false, false,
                false, Verdict.drop(), null, null, 32, Ticker.system(), null);
    }

    static void checkQueueNumber(int number) {
        if (number < 0 || number > 65535) {
            throw new IllegalArgumentException("queue number must be 0..65535: " + number);
        }
    }

    /** A copy with {@code change} applied: each wither names only the field it sets. */
    private QueueOptions with(Consumer<Fields> change) {
        Fields f = new Fields(this);
        change.accept(f);
        return new QueueOptions(f.queueNumber, f.copyMode, f.copyRange, f.maxLength, f.socketBufferSize, f.failOpen,
                f.gso, f.conntrack, f.uidGid, f.securityContext, f.defaultVerdict, f.verdictTimeout,
                f.networkNamespace, f.batchSize, f.ticker, f.flowOffload);
    }

    /** The fields of one instance, mutable, for {@link #with}. */
    private static final class Fields {
        int queueNumber;
        CopyMode copyMode;
        int copyRange;
        int maxLength;
        int socketBufferSize;
        boolean failOpen;
        boolean gso;
        boolean conntrack;
        boolean uidGid;
        boolean securityContext;
        Verdict defaultVerdict;
        Duration verdictTimeout;
        Path networkNamespace;
        int batchSize;
        Ticker ticker;
        FlowOffload flowOffload;

        Fields(QueueOptions o) {
            queueNumber = o.queueNumber;
            copyMode = o.copyMode;
            copyRange = o.copyRange;
            maxLength = o.maxLength;
            socketBufferSize = o.socketBufferSize;
            failOpen = o.failOpen;
            gso = o.gso;
            conntrack = o.conntrack;
            uidGid = o.uidGid;
            securityContext = o.securityContext;
            defaultVerdict = o.defaultVerdict;
            verdictTimeout = o.verdictTimeout;
            networkNamespace = o.networkNamespace;
            batchSize = o.batchSize;
            ticker = o.ticker;
            flowOffload = o.flowOffload;
        }
    }

    /** The same options for another queue number (used for queue ranges). */
    public QueueOptions queueNumber(int number) {
        checkQueueNumber(number);
        return with(f -> f.queueNumber = number);
    }

    public QueueOptions copyMode(CopyMode mode) {
        Objects.requireNonNull(mode, "copyMode");
        return with(f -> f.copyMode = mode);
    }

    /** Bytes of each packet to copy, 1..65531; a longer packet arrives truncated (see {@link Packet#isTruncated()}). */
    public QueueOptions copyRange(int bytes) {
        if (bytes < 1 || bytes > MAX_COPY_RANGE) {
            throw new IllegalArgumentException("copy range must be 1.." + MAX_COPY_RANGE + " bytes: " + bytes);
        }
        return with(f -> f.copyRange = bytes);
    }

    /** Packets the kernel holds for this queue (delivered or not) before it drops, or accepts with fail-open. */
    public QueueOptions maxLength(int packets) {
        if (packets < 1 || packets > MAX_MAX_LENGTH) {
            throw new IllegalArgumentException("max length must be 1.." + MAX_MAX_LENGTH + " packets: " + packets);
        }
        return with(f -> f.maxLength = packets);
    }

    /** The netlink receive buffer in bytes (at least 65 536); 0 sizes it from max-length and copy range. */
    public QueueOptions socketBufferSize(int bytes) {
        if (bytes != 0 && bytes < 65536) {
            throw new IllegalArgumentException("socket buffer size must be 0 (automatic) or at least 65536 bytes: " + bytes);
        }
        return with(f -> f.socketBufferSize = bytes);
    }

    /** When the queue is full, accept new packets uninspected instead of dropping them. */
    public QueueOptions failOpen(boolean enabled) {
        return with(f -> f.failOpen = enabled);
    }

    /** Receive GSO packets whole (larger than the MTU, checksums possibly not ready). */
    public QueueOptions gso(boolean enabled) {
        return with(f -> f.gso = enabled);
    }

    /** Ask for conntrack information (needs a kernel with CONFIG_NETFILTER_NETLINK_GLUE_CT). */
    public QueueOptions conntrack(boolean enabled) {
        return with(f -> f.conntrack = enabled);
    }

    /** Ask for the uid and gid of the local socket a packet belongs to. */
    public QueueOptions uidGid(boolean enabled) {
        return with(f -> f.uidGid = enabled);
    }

    /** Ask for the packet's security context (SELinux/Smack label). */
    public QueueOptions securityContext(boolean enabled) {
        return with(f -> f.securityContext = enabled);
    }

    /** The verdict given to packets the program leaves unresolved (close, handler error, timeout). */
    public QueueOptions defaultVerdict(Verdict verdict) {
        Objects.requireNonNull(verdict, "defaultVerdict");
        if (verdict.isFlowDecision()) {
            // A default covers packets the program never looked at: deciding their whole flows
            // would outlive the outage that caused it (restart, overload, timeout).
            throw new IllegalArgumentException("the default verdict cannot be a flow decision (" + verdict
                    + "): it would decide whole connections the program never saw; use accept() or drop()");
        }
        return with(f -> f.defaultVerdict = verdict);
    }

    /** Give the default verdict to packets unresolved for longer than this (positive). */
    public QueueOptions verdictTimeout(Duration timeout) {
        Objects.requireNonNull(timeout, "verdictTimeout");
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("verdict timeout must be positive: " + timeout);
        }
        return with(f -> f.verdictTimeout = timeout);
    }

    /** No verdict timeout: a packet left unresolved waits until the queue closes (the default here). */
    public QueueOptions noVerdictTimeout() {
        return with(f -> f.verdictTimeout = null);
    }

    /** Bind inside the network namespace at this path (e.g. {@code /var/run/netns/NAME}) without moving the process. */
    public QueueOptions networkNamespace(Path path) {
        Objects.requireNonNull(path, "networkNamespace");
        return with(f -> f.networkNamespace = path);
    }

    /** These options without a network namespace: for a queue that binds nothing (a synthetic one). */
    QueueOptions withoutNetworkNamespace() {
        return with(f -> f.networkNamespace = null);
    }

    /** Datagrams read per receive call (1..1024): one JNI crossing and one recvmmsg per batch. */
    public QueueOptions batchSize(int datagrams) {
        if (datagrams < 1 || datagrams > MAX_BATCH_SIZE) {
            throw new IllegalArgumentException("batch size must be 1.." + MAX_BATCH_SIZE + ": " + datagrams);
        }
        return with(f -> f.batchSize = datagrams);
    }

    /**
     * The clock for packet ages ({@link Packet#receivedNanos()}) and the verdict timeout; by
     * default {@link Ticker#system()}. For tests: see {@link Ticker}.
     */
    public QueueOptions ticker(Ticker ticker) {
        Objects.requireNonNull(ticker, "ticker");
        return with(f -> f.ticker = ticker);
    }

    /**
     * Let handlers decide once per flow ({@link Verdict#acceptFlow()}, {@link Verdict#dropFlow()})
     * with these mark bits; the rules that make it work come from {@link FlowRules}. At bind, the
     * queue probes whether the kernel also takes the connection mark in the verdict
     * ({@link BoundQueue#connmarkByVerdict()}).
     */
    public QueueOptions flowOffload(FlowOffload offload) {
        Objects.requireNonNull(offload, "flowOffload");
        return with(f -> f.flowOffload = offload);
    }

    /** No flow decisions (the default): a flow verdict on this queue is refused. */
    public QueueOptions noFlowOffload() {
        return with(f -> f.flowOffload = null);
    }

    public Optional<FlowOffload> flowOffload() {
        return Optional.ofNullable(flowOffload);
    }

    public int queueNumber() {
        return queueNumber;
    }

    public CopyMode copyMode() {
        return copyMode;
    }

    public int copyRange() {
        return copyRange;
    }

    public int maxLength() {
        return maxLength;
    }

    /** The configured receive buffer size, 0 for automatic. */
    public int socketBufferSize() {
        return socketBufferSize;
    }

    /**
     * The receive buffer actually requested: the configured size, or room for max-length
     * messages of the copy range (with about 1 KiB of kernel overhead each), between 1 MiB and
     * 256 MiB. Overflow then happens in the kernel queue, where it is counted and the
     * fail-open policy applies, instead of as ENOBUFS.
     */
    public int effectiveSocketBufferSize() {
        if (socketBufferSize != 0) {
            return socketBufferSize;
        }
        long perPacket = (copyMode == CopyMode.PACKET ? copyRange : 0) + 1024L;
        long wanted = perPacket * maxLength;
        return (int) Math.max(1L << 20, Math.min(256L << 20, wanted));
    }

    public boolean failOpen() {
        return failOpen;
    }

    public boolean gso() {
        return gso;
    }

    public boolean conntrack() {
        return conntrack;
    }

    public boolean uidGid() {
        return uidGid;
    }

    public boolean securityContext() {
        return securityContext;
    }

    public Verdict defaultVerdict() {
        return defaultVerdict;
    }

    public Optional<Duration> verdictTimeout() {
        return Optional.ofNullable(verdictTimeout);
    }

    public Optional<Path> networkNamespace() {
        return Optional.ofNullable(networkNamespace);
    }

    public int batchSize() {
        return batchSize;
    }

    public Ticker ticker() {
        return ticker;
    }

    @Override
    public String toString() {
        return "QueueOptions{queue=" + queueNumber + ", copyMode=" + copyMode + ", copyRange=" + copyRange
                + ", maxLength=" + maxLength + ", socketBufferSize=" + socketBufferSize + ", failOpen=" + failOpen
                + ", gso=" + gso + ", conntrack=" + conntrack + ", uidGid=" + uidGid + ", securityContext="
                + securityContext + ", defaultVerdict=" + defaultVerdict + ", verdictTimeout=" + verdictTimeout
                + ", networkNamespace=" + networkNamespace + ", batchSize=" + batchSize
                + (ticker == Ticker.system() ? "" : ", ticker=" + ticker)
                + (flowOffload == null ? "" : ", flowOffload=" + flowOffload) + '}';
    }
}
