package io.nfqueue.reactor.internal;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The kernel max-length is unresolved + headroom, the headroom what the subscriber drains within
 * the budget at its rate (floor .. ceiling), moved inside a hysteresis band so that neither a
 * target drifting packet by packet nor a jittering rate costs a config message each time.
 */
@Timeout(30)
class MaxLengthControlTest {
    private static final int FLOOR = 128;
    private static final int CEILING = 4096;
    private static final int H = 8;
    private static final long BUDGET = TimeUnit.MILLISECONDS.toNanos(50);

    private static MaxLengthControl control() {
        return new MaxLengthControl(FLOOR, CEILING, H, BUDGET, CEILING);
    }

    @Test
    void anUnknownRateKeepsTheCeiling() {
        MaxLengthControl c = control();
        assertEquals(-1, c.update(0, Double.NaN), "bound at the ceiling, nothing to change");
        assertEquals(CEILING, c.current());
        assertEquals(CEILING, c.headroom(Double.NaN));
    }

    @Test
    void theHeadroomIsWhatTheSubscriberDrainsWithinTheBudget() {
        MaxLengthControl c = control();
        assertEquals(1000, c.headroom(20_000), "20 000/s for 50 ms");
        assertEquals(FLOOR, c.headroom(200), "200/s earns 10: the floor");
        assertEquals(FLOOR, c.headroom(0), "a stopped subscriber: the floor");
        assertEquals(CEILING, c.headroom(1e9), "capped by the ceiling");
    }

    @Test
    void aSlowSubscriberShrinksTheLengthToUnresolvedPlusFloor() {
        MaxLengthControl c = control();
        int next = c.update(32, 200);
        assertTrue(next >= 32 + FLOOR && next <= 32 + FLOOR + Math.max(H / 2, (32 + FLOOR) / 4),
                "32 unresolved + floor, a margin above: " + next);
        assertEquals(1, c.changes());
    }

    @Test
    void unresolvedPacketsRaiseTheLengthAtOnce() {
        MaxLengthControl c = control();
        int low = c.update(0, 0);
        int high = c.update(1000, 0);
        assertTrue(high >= 1000 + FLOOR, "1000 unresolved + floor: " + low + " -> " + high);
    }

    @Test
    void theLengthNeverExceedsTheCeiling() {
        MaxLengthControl c = control();
        c.update(0, 0);
        assertEquals(CEILING, c.update(CEILING * 2, 0));
        assertEquals(-1, c.update(CEILING * 2, 1e9));
    }

    /** Growth follows at once, a shrink waits for 1/8 of the length, and each change leaves a margin. */
    @Test
    void aJitteringRateChangesNothingOnceSet() {
        MaxLengthControl c = control();
        c.update(0, 20_000); // headroom 1000
        long before = c.changes();
        Random random = new Random(7);
        for (int i = 0; i < 10_000; i++) {
            double jitter = 20_000 * (1 + (random.nextDouble() - 0.5) * 0.2); // +-10 %
            c.update(random.nextInt(8), jitter);
        }
        assertEquals(before, c.changes(), "a +-10 % rate and a few unresolved packets cost no config message");
    }

    /**
     * A rate falling a hundredfold step by step costs a few messages, not one per step: a shrink
     * waits for the target to fall a third below the length and leaves a margin of a quarter, so
     * each one cuts the length to at most 2/3 * 5/4 = 5/6 of it, and 4096 comes down to the floor
     * in at most ~19 of them.
     */
    @Test
    void aDecayingRateCostsFewChanges() {
        MaxLengthControl c = control();
        c.update(0, 100_000); // the ceiling
        double rate = 100_000;
        for (int i = 0; i < 1000; i++) {
            rate *= 0.99;
            c.update(0, rate);
        }
        assertTrue(c.changes() <= 20, c.changes() + " changes");
        assertTrue(c.current() <= FLOOR + FLOOR / 4 + FLOOR / 3, "at the floor now: " + c.current());
    }

    /**
     * A target drifting by one packet at a time (read one, resolve one) must not cost a config
     * message per packet, and the length always keeps room for the target.
     */
    @Test
    void randomWalkOfUnresolvedCostsFewChanges() {
        Random random = new Random(42);
        for (int h : new int[] {2, 8, 32}) {
            MaxLengthControl c = new MaxLengthControl(FLOOR, CEILING, h, BUDGET, CEILING);
            int unresolved = 200;
            int steps = 100_000;
            int changes = 0;
            for (int i = 0; i < steps; i++) {
                unresolved = Math.max(0, Math.min(CEILING - FLOOR, unresolved + (random.nextBoolean() ? 1 : -1)));
                if (c.update(unresolved, 0) > 0) {
                    changes++;
                }
                long target = unresolved + FLOOR;
                assertTrue(c.current() >= target && c.current() <= target + Math.max(h, c.current() / 3),
                        "h=" + h + " step " + i + ": length " + c.current() + " for target " + target);
            }
            assertTrue(changes <= steps / (h / 2 + 1) + 1, "h=" + h + ": " + changes + " changes in " + steps + " steps");
        }
    }

    @Test
    void oscillationByOneChangesNothingAfterTheFirstSetting() {
        MaxLengthControl c = control();
        c.update(50, 0);
        long set = c.changes();
        for (int i = 0; i < 10_000; i++) {
            c.update(50 + (i & 1), 0);
        }
        assertEquals(set, c.changes());
    }
}
