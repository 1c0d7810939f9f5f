package io.nfqueue.testing;

import io.nfqueue.DefaultVerdictCause;
import io.nfqueue.Packet;
import io.nfqueue.VerdictAlreadyGivenException;
import io.nfqueue.test.kernel.DatagramTally;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One round of a race between the program's verdicts and the library's own default verdict
 * (close, cancel, timeout), on numbered datagrams {@code TAG + i}: which side won for each packet,
 * and what the sink must therefore have seen. The program drops every third packet (by number)
 * and accepts the rest; with a default verdict of ACCEPT, "the program's drop won" is the only
 * outcome in which a datagram must not arrive, so the kernel's behaviour shows who really won.
 */
public final class RaceOutcome {
    private static final int NOT_TRIED = 0;
    private static final int ACCEPT_WON = 1;
    private static final int DROP_WON = 2;
    private static final int LOST = 3;

    private final int[] state;
    private final Object[] lostTo;
    private final AtomicInteger wins = new AtomicInteger();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();

    /** For packets numbered 0..packets-1 (the program may be given fewer: the rest count as never tried). */
    public RaceOutcome(int packets) {
        this.state = new int[packets];
        this.lostTo = new Object[packets];
    }

    /** Gives packet number {@code i} its verdict (drop when i % 3 == 0, else accept) and records who won. */
    public void give(Packet p, int i) {
        boolean drop = i % 3 == 0;
        try {
            if (drop) {
                p.drop();
            } else {
                p.accept();
            }
            synchronized (state) {
                state[i] = drop ? DROP_WON : ACCEPT_WON;
            }
            wins.incrementAndGet();
        } catch (VerdictAlreadyGivenException lost) {
            synchronized (state) {
                state[i] = LOST;
                lostTo[i] = lost.defaultCause().map(Object.class::cast).orElse("the program itself");
            }
        }
    }

    /** Records an unexpected error of a thread taking part in the race. */
    public void fail(Throwable e) {
        failure.compareAndSet(null, e);
    }

    public Throwable failure() {
        return failure.get();
    }

    /** Program verdicts that won. */
    public int programWins() {
        return wins.get();
    }

    public boolean dropWon(int i) {
        synchronized (state) {
            return i < state.length && state[i] == DROP_WON;
        }
    }

    /** Program verdicts that lost (the packet already had a verdict). */
    public int losses() {
        int n = 0;
        synchronized (state) {
            for (int s : state) {
                if (s == LOST) {
                    n++;
                }
            }
        }
        return n;
    }

    /** Program verdicts that lost to a default verdict of {@code cause}. */
    public int lostTo(DefaultVerdictCause cause) {
        int n = 0;
        synchronized (state) {
            for (Object o : lostTo) {
                if (o == cause) {
                    n++;
                }
            }
        }
        return n;
    }

    public String describe(int i) {
        if (i >= state.length) {
            return "never handed to the program";
        }
        synchronized (state) {
            switch (state[i]) {
                case ACCEPT_WON:
                    return "program accept won";
                case DROP_WON:
                    return "program drop won";
                case LOST:
                    return "program lost to " + lostTo[i];
                default:
                    return "program never tried";
            }
        }
    }

    /**
     * Checks the sink against the outcome for {@code TAG + 0 .. TAG + (sent-1)}: each arrived exactly
     * once, except those whose program DROP won, which never arrive. An accepted packet is
     * reinjected while the kernel handles the verdict, so a short bounded wait suffices (a later
     * extra copy would show in a later round's check). Returns the problems, empty when none.
     */
    public List<String> arrivalProblems(DatagramTally sink, String tag, int sent) {
        int expected = 0;
        for (int i = 0; i < sent; i++) {
            if (!dropWon(i)) {
                expected++;
            }
        }
        int want = expected;
        Await.until(() -> sink.counts(t -> t.startsWith(tag)).size() >= want, Duration.ofSeconds(3));
        Map<String, Integer> arrived = sink.counts(t -> t.startsWith(tag));
        List<String> problems = new ArrayList<>();
        for (int i = 0; i < sent; i++) {
            int n = arrived.getOrDefault(tag + i, 0);
            int should = dropWon(i) ? 0 : 1;
            if (n != should) {
                problems.add(tag + i + " arrived " + n + "x, expected " + should + "x (" + describe(i) + ")");
            }
        }
        for (String t : arrived.keySet()) {
            String rest = t.substring(tag.length());
            if (!rest.matches("\\d+") || Integer.parseInt(rest) >= sent) {
                problems.add("unexpected datagram " + t);
            }
        }
        return problems;
    }
}
