package io.nfqueue.reactor.internal;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The kernel max-length follows outstanding demand + unresolved packets inside a hysteresis
 * band, so a steady flow costs no config message per packet.
 */
@Timeout(30)
class MaxLengthControlTest {
    private static final int MIN = 1;
    private static final int MAX = 1024;
    private static final int H = 8;

    @Test
    void demandRaisesTheLengthToAboutTheDemand() {
        MaxLengthControl c = new MaxLengthControl(MIN, MAX, H, MIN);
        int next = c.update(8, 0);
        assertTrue(next >= 8 && next <= 8 + H, "request(8) gives a max-length of about 8: " + next);
        assertEquals(next, c.current());
    }

    @Test
    void unresolvedPacketsCountTowardTheTarget() {
        MaxLengthControl c = new MaxLengthControl(MIN, MAX, H, MIN);
        int next = c.update(10, 30);
        assertTrue(next >= 40 && next <= 40 + H, "10 requested + 30 unresolved: " + next);
    }

    @Test
    void aTargetInsideTheBandChangesNothing() {
        MaxLengthControl c = new MaxLengthControl(MIN, MAX, H, MIN);
        int set = c.update(100, 0);
        for (long target = set - H; target <= set; target++) {
            assertEquals(-1, c.update(target, 0), "target " + target + " is inside [" + (set - H) + ", " + set + "]");
        }
        assertEquals(set, c.current());
    }

    @Test
    void leavingTheBandEitherWayChangesTheLength() {
        MaxLengthControl c = new MaxLengthControl(MIN, MAX, H, MIN);
        int set = c.update(100, 0);
        int up = c.update(set + 1, 0);
        assertTrue(up > set, "above the band: raised");
        int down = c.update(up - H - 1, 0);
        assertTrue(down > 0 && down < up, "below the band: lowered, " + up + " -> " + down);
    }

    @Test
    void unboundedDemandMeansTheCeiling() {
        MaxLengthControl c = new MaxLengthControl(MIN, MAX, H, MIN);
        assertEquals(MAX, c.update(Long.MAX_VALUE, 0));
        assertEquals(-1, c.update(Long.MAX_VALUE, 0), "already at the ceiling");
        assertEquals(-1, c.update(Long.MAX_VALUE, 500), "unresolved packets do not matter when unbounded");
    }

    @Test
    void theLengthStaysWithinItsBounds() {
        MaxLengthControl c = new MaxLengthControl(16, 256, H, 16);
        assertEquals(256, c.update(1_000_000, 0), "capped at the upper bound");
        int low = c.update(0, 0);
        assertTrue(low >= 16 && low <= 16 + H, "demand 0 goes down to about the lower bound: " + low);
        assertEquals(-1, c.update(0, 0));
    }

    /**
     * Demand just short of unbounded plus unresolved packets overflows a long: the sum must be
     * capped at the ceiling, not wrap to a negative number that clamps to the floor. Reached by
     * a subscriber that holds a few packets and then requests Long.MAX_VALUE - 1 (the TCK's
     * §3.17 test requests Long.MAX_VALUE / 2 twice).
     */
    @Test
    void hugeBoundedDemandPlusUnresolvedMeansTheCeiling() {
        MaxLengthControl c = new MaxLengthControl(MIN, MAX, H, MAX);
        int next = c.update(Long.MAX_VALUE - 1, 10);
        assertTrue(next == -1 || next == MAX, "demand Long.MAX_VALUE-1 + 10 unresolved keeps the ceiling, got " + next
                + " (current " + c.current() + ")");
        assertEquals(MAX, c.current());
    }

    /**
     * A target drifting by ±1 (one packet read, one verdict, one request at a time) must not
     * cost a config message per packet: after a change, the target must move more than half a
     * hysteresis before the next one. And the length always keeps room for the target, at most
     * a hysteresis above it.
     */
    @Test
    void randomWalkOfTheTargetCostsFewChanges() {
        Random random = new Random(42);
        for (int h : new int[] {2, 8, 32}) {
            MaxLengthControl c = new MaxLengthControl(MIN, MAX, h, MIN);
            long target = 200;
            c.update(target, 0);
            int steps = 100_000;
            int changes = 0;
            int lastChange = -10;
            int minGap = Integer.MAX_VALUE;
            for (int i = 0; i < steps; i++) {
                target = Math.max(0, Math.min(MAX - h, target + (random.nextBoolean() ? 1 : -1)));
                if (c.update(target, 0) > 0) {
                    changes++;
                    minGap = Math.min(minGap, i - lastChange);
                    lastChange = i;
                }
                long clamped = Math.max(MIN, target);
                assertTrue(c.current() >= clamped && c.current() <= clamped + h,
                        "h=" + h + " step " + i + ": length " + c.current() + " for target " + target);
            }
            assertTrue(minGap > h / 2, "h=" + h + ": two changes only " + minGap + " steps apart");
            assertTrue(changes <= steps / (h / 2 + 1) + 1, "h=" + h + ": " + changes + " changes in " + steps + " steps");
        }
    }

    /** A target that flips between two neighbours (read one, resolve one) never changes the length. */
    @Test
    void oscillationByOneChangesNothingAfterTheFirstSetting() {
        MaxLengthControl c = new MaxLengthControl(MIN, MAX, H, MIN);
        c.update(50, 0);
        int changes = 0;
        for (int i = 0; i < 10_000; i++) {
            if (c.update(50 + (i & 1), 0) > 0) {
                changes++;
            }
        }
        assertEquals(0, changes);
    }
}
