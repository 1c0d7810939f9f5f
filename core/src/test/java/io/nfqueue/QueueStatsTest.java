package io.nfqueue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Lines as the kernel prints them: "%5u %6u %5u %1u %5u %5u %5u %8u %2d" (nfnetlink_queue.c). */
@Timeout(10)
class QueueStatsTest {

    @Test
    void parsesAKernelLine() {
        QueueStats s = QueueStats.parse("    3  41234     2 2 65531     5     7       19  1");
        assertEquals(new QueueStats(3, 41234, 2, 2, 65531, 5, 7, 19), s);
    }

    @Test
    void parsesUnsignedValuesAboveIntRange() {
        // Port ids of later sockets and the 32-bit id sequence exceed Integer.MAX_VALUE.
        QueueStats s = QueueStats.parse("65535 4294967295     0 1     0     0     0 4294967295  1");
        assertEquals(65535, s.queueNumber());
        assertEquals(4294967295L, s.portId());
        assertEquals(1, s.copyMode());
        assertEquals(4294967295L, s.lastPacketId());
    }

    @Test
    void toleratesTabsAndATrailingNewline() {
        QueueStats s = QueueStats.parse("0\t100\t0\t2\t1500\t0\t0\t0\t1\n");
        assertEquals(0, s.queueNumber());
        assertEquals(100, s.portId());
        assertEquals(1500, s.copyRange());
    }

    @Test
    void badLinesThrowNamingTheLine() {
        for (String line : new String[] {"", "   ", "garbage", "1 2 3", "1 2 3 4 5 6 7",
                "x 100 0 2 1500 0 0 0 1", "1 100 0 2 1500 0 0 zz 1", "1 100 0 2 15.5 0 0 0 1"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> QueueStats.parse(line),
                    "'" + line + "'");
            assertTrue(e.getMessage().contains(line), "message names the line '" + line + "': " + e.getMessage());
        }
    }
}
