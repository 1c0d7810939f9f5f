package io.nfqueue.test;

import io.nfqueue.DefaultVerdictCause;
import io.nfqueue.Verdict;

import java.util.Arrays;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * What a test expects one packet to get, for {@link TestQueue#expectVerdicts}. The kinds
 * ({@link #accepted()}, {@link #dropped()}, ...) expect the program's own verdict; a verdict the
 * library gave by default (timeout, cancel, a dropped element, ...) fails them, which is what
 * catches a pipeline that loses track of packets. {@link #byDefault} expects exactly that
 * instead.
 *
 * <pre>{@code
 * queue.expectVerdicts(accepted(), dropped(), accepted().withMark(7), dropped().byDefault(TIMEOUT));
 * }</pre>
 *
 * <p>Unless {@link #withMark}, {@link #withPayload} or {@link #unchanged} says otherwise, the
 * mark and payload of the verdict are not checked. Immutable.
 */
public final class VerdictExpectation {
    private final Verdict.Kind kind;
    private final int targetQueue;
    private final Integer mark;
    private final byte[] payload;
    private final boolean unchanged;
    private final Source source;
    /** With {@link Source#DEFAULT_CAUSE}: the cause. */
    private final DefaultVerdictCause cause;
    /** A flow decision, whatever kernel verdict the queue's mode made of it; then kind is null. */
    private final Verdict.FlowDecision flow;

    /** Who must have given the verdict. */
    private enum Source { PROGRAM, DEFAULT_CAUSE, EITHER }

    private VerdictExpectation(Verdict.Kind kind, int targetQueue, Integer mark, byte[] payload, boolean unchanged,
                               Source source, DefaultVerdictCause cause) {
        this(kind, targetQueue, mark, payload, unchanged, source, cause, null);
    }

    private VerdictExpectation(Verdict.Kind kind, int targetQueue, Integer mark, byte[] payload, boolean unchanged,
                               Source source, DefaultVerdictCause cause, Verdict.FlowDecision flow) {
        this.flow = flow;
        this.kind = kind;
        this.targetQueue = targetQueue;
        this.mark = mark;
        this.payload = payload;
        this.unchanged = unchanged;
        this.source = source;
        this.cause = cause;
    }

    private static VerdictExpectation of(Verdict.Kind kind, int targetQueue) {
        return new VerdictExpectation(kind, targetQueue, null, null, false, Source.PROGRAM, null);
    }

    /** ACCEPT, given by the program. */
    public static VerdictExpectation accepted() {
        return of(Verdict.Kind.ACCEPT, -1);
    }

    /** DROP, given by the program. */
    public static VerdictExpectation dropped() {
        return of(Verdict.Kind.DROP, -1);
    }

    /** REPEAT, given by the program. */
    public static VerdictExpectation repeated() {
        return of(Verdict.Kind.REPEAT, -1);
    }

    /**
     * {@link Verdict#acceptFlow()}, given by the program, whatever kernel verdict the queue's
     * {@link io.nfqueue.FlowOffload.Mode} made of it; {@link #withMark} checks the mark sent.
     */
    public static VerdictExpectation acceptedFlow() {
        return new VerdictExpectation(null, -1, null, null, false, Source.PROGRAM, null, Verdict.FlowDecision.ACCEPT);
    }

    /** {@link Verdict#dropFlow()}, given by the program; see {@link #acceptedFlow()}. */
    public static VerdictExpectation droppedFlow() {
        return new VerdictExpectation(null, -1, null, null, false, Source.PROGRAM, null, Verdict.FlowDecision.DROP);
    }

    /** QUEUE to {@code queueNumber}, given by the program. */
    public static VerdictExpectation requeuedTo(int queueNumber) {
        if (queueNumber < 0 || queueNumber > 65535) {
            throw new IllegalArgumentException("queue number must be 0..65535: " + queueNumber);
        }
        return of(Verdict.Kind.REQUEUE, queueNumber);
    }

    /** The queue's default verdict, whatever its kind, given because of {@code cause}. */
    public static VerdictExpectation defaultVerdict(DefaultVerdictCause cause) {
        Objects.requireNonNull(cause, "cause");
        return new VerdictExpectation(null, -1, null, null, false, Source.DEFAULT_CAUSE, cause);
    }

    /** Any verdict at all, from anyone: the packet was resolved, that is all. */
    public static VerdictExpectation anyVerdict() {
        return new VerdictExpectation(null, -1, null, null, false, Source.EITHER, null);
    }

    /** This kind, but as the default verdict given because of {@code cause}, not by the program. */
    public VerdictExpectation byDefault(DefaultVerdictCause cause) {
        Objects.requireNonNull(cause, "cause");
        return withFlow(new VerdictExpectation(kind, targetQueue, mark, payload, unchanged, Source.DEFAULT_CAUSE, cause));
    }

    /** This kind, given by the program or by default for any reason. */
    public VerdictExpectation byAnyone() {
        return withFlow(new VerdictExpectation(kind, targetQueue, mark, payload, unchanged, Source.EITHER, null));
    }

    /** ... and the verdict sets the mark to {@code value}. */
    public VerdictExpectation withMark(int value) {
        return withFlow(new VerdictExpectation(kind, targetQueue, value, payload, false, source, cause));
    }

    /** ... and the verdict replaces the packet with {@code bytes}. */
    public VerdictExpectation withPayload(byte[] bytes) {
        Objects.requireNonNull(bytes, "payload");
        return withFlow(new VerdictExpectation(kind, targetQueue, mark, bytes.clone(), false, source, cause));
    }

    /** ... and the verdict sets no mark and no new payload. */
    public VerdictExpectation unchanged() {
        return withFlow(new VerdictExpectation(kind, targetQueue, null, null, true, source, cause));
    }

    private VerdictExpectation withFlow(VerdictExpectation copy) {
        return new VerdictExpectation(copy.kind, copy.targetQueue, copy.mark, copy.payload, copy.unchanged, copy.source,
                copy.cause, flow);
    }

    /** Null when {@code given} meets this expectation, else what differs. */
    String mismatch(GivenVerdict given) {
        Verdict v = given.verdict();
        if (flow != null && !v.flowDecision().equals(Optional.of(flow))) {
            return "another verdict";
        }
        if (kind != null && (v.kind() != kind || (kind == Verdict.Kind.REQUEUE && v.targetQueue() != targetQueue))) {
            return "another verdict";
        }
        switch (source) {
            case PROGRAM:
                if (!given.byProgram()) {
                    return "the default verdict, not the program's";
                }
                break;
            case DEFAULT_CAUSE:
                if (given.defaultCause().orElse(null) != cause) {
                    return given.byProgram() ? "the program's verdict, not the default" : "another cause";
                }
                break;
            default:
                break;
        }
        OptionalInt m = v.mark();
        if (mark != null && (m.isEmpty() || m.getAsInt() != mark)) {
            return "another mark";
        }
        if (payload != null && (!v.hasPayload() || !Arrays.equals(v.payload(), payload))) {
            return "another payload";
        }
        if (unchanged && (m.isPresent() || v.hasPayload())) {
            return "a changed packet";
        }
        return null;
    }

    /** "ACCEPT mark 0x7 by the program". */
    @Override
    public String toString() {
        StringBuilder s = new StringBuilder(flow != null ? (flow == Verdict.FlowDecision.ACCEPT ? "acceptFlow" : "dropFlow")
                : kind == null ? "any verdict" : kind.name());
        if (kind == Verdict.Kind.REQUEUE) {
            s.append(" to ").append(targetQueue);
        }
        if (mark != null) {
            s.append(" mark 0x").append(Integer.toHexString(mark));
        }
        if (payload != null) {
            s.append(" new payload ").append(payload.length).append(" B");
        }
        if (unchanged) {
            s.append(" unchanged");
        }
        switch (source) {
            case PROGRAM:
                s.append(" by the program");
                break;
            case DEFAULT_CAUSE:
                s.append(" by default (").append(cause).append(')');
                break;
            default:
                break;
        }
        return s.toString();
    }

    static String describe(Verdict v) {
        StringBuilder s = new StringBuilder(v.kind().name());
        if (v.kind() == Verdict.Kind.REQUEUE) {
            s.append(" to ").append(v.targetQueue());
        }
        v.mark().ifPresent(m -> s.append(" mark 0x").append(Integer.toHexString(m)));
        if (v.hasPayload()) {
            s.append(" new payload ").append(v.payload().length).append(" B");
        }
        v.flowDecision().ifPresent(f -> s.append(f == Verdict.FlowDecision.ACCEPT ? " (acceptFlow)" : " (dropFlow)"));
        return s.toString();
    }
}
