package io.nfqueue.samples;

import io.nfqueue.QueueStats;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DemoDisplayTest {
    private static DemoFrame frame(long seen, boolean done) {
        List<Long> hits = new ArrayList<>();
        for (int i = 0; i < DemoScenario.RULES.size(); i++) {
            hits.add(10L * (i + 1));
        }
        return new DemoFrame(3, 10, done, "nfq-demo-1-2-server", seen, seen - 40, 40, 155, hits, 77, 21, 3,
                Optional.of(QueueStats.parse("    7  123     2 2 65531     0     0      300  1")));
    }

    @Test
    void aFrameShowsEveryCounter() {
        List<String> lines = DemoDisplay.render(frame(300, false));
        String text = String.join("\n", lines);
        assertTrue(lines.get(0).endsWith("3 s of 10 s"), text);
        assertTrue(text.contains("300 seen") && text.contains("260 accepted") && text.contains("40 dropped")
                && text.contains("155 packets/s"), text);
        for (int i = 0; i < DemoScenario.RULES.size(); i++) {
            assertTrue(text.contains(10 * (i + 1) + "  " + (i + 1) + " " + DemoScenario.RULES.get(i).text()), text);
        }
        assertTrue(text.contains("77  - accept"), text);
        assertTrue(text.contains("21 dropped over " + DemoScenario.LIMIT_RATE + "/s"), text);
        assertTrue(text.contains("2 waiting for a verdict") && text.contains("last id 300"), text);
        assertTrue(DemoDisplay.render(frame(300, true)).get(0).endsWith("finished after 3 s"));
    }

    @Test
    void onATerminalEachFrameIsRedrawnOverThePreviousOne() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DemoDisplay d = new DemoDisplay(new PrintStream(bytes, true, StandardCharsets.UTF_8), true);
        d.show(frame(100, false));
        String first = bytes.toString(StandardCharsets.UTF_8);
        assertFalse(first.contains("\033[" + DemoDisplay.render(frame(100, false)).size() + "A"), "nothing to go back over");
        bytes.reset();
        d.show(frame(200, false));
        String second = bytes.toString(StandardCharsets.UTF_8);
        int lines = DemoDisplay.render(frame(200, false)).size();
        assertTrue(second.startsWith("\033[" + lines + "A\r\033[2K"), "back up over the first frame, clear, redraw");
        assertTrue(second.endsWith("\033[J"), "clear below");
        assertEquals(lines, second.split("\n", -1).length - 1);
    }

    @Test
    void elsewhereEachFrameIsABlockOfItsOwn() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DemoDisplay d = new DemoDisplay(new PrintStream(bytes, true, StandardCharsets.UTF_8), false);
        d.show(frame(100, false));
        d.show(frame(200, false));
        String text = bytes.toString(StandardCharsets.UTF_8);
        assertFalse(text.contains("\033"), text);
        assertTrue(text.contains("100 seen") && text.contains("200 seen"), text);
        int lines = DemoDisplay.render(frame(100, false)).size();
        assertEquals(2 * (lines + 1), text.lines().count(), "each frame and a blank line");
    }
}
