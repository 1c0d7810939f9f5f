package io.nfqueue.samples;


import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;

/**
 * The demo's live display. On a terminal each frame is redrawn in place with ANSI escapes
 * (cursor up, clear line); elsewhere (a pipe, a file, a test) each frame is printed as a block
 * of its own, since escapes would only garble a log.
 */
final class DemoDisplay {
    private static final String ESC = "\033[";
    private final PrintStream out;
    private final boolean ansi;
    /** Lines of the frame on screen, to move back over; 0 before the first. */
    private int shown;

    DemoDisplay(PrintStream out, boolean ansi) {
        this.out = out;
        this.ansi = ansi;
    }

    /** Draws {@code frame}: over the previous one on a terminal, below it otherwise. */
    void show(DemoFrame frame) {
        List<String> lines = render(frame);
        StringBuilder b = new StringBuilder();
        if (ansi && shown > 0) {
            b.append(ESC).append(shown).append('A').append('\r');
        }
        for (String line : lines) {
            if (ansi) {
                b.append(ESC).append("2K");
            }
            b.append(line).append('\n');
        }
        if (ansi) {
            b.append(ESC).append('J');   // clear what a longer previous frame left below
        } else {
            b.append('\n');
        }
        out.print(b);
        out.flush();
        shown = lines.size();
    }

    /** The frame's lines, without escapes. */
    static List<String> render(DemoFrame f) {
        List<String> l = new ArrayList<>();
        l.add(String.format("nfqueue demo: queue %d in %s, %s", DemoScenario.QUEUE, f.where(), f.done()
                ? "finished after " + f.elapsedSeconds() + " s" : f.elapsedSeconds() + " s of " + f.seconds() + " s"));
        l.add(String.format("  packets    %7d seen  %7d accepted  %7d dropped  %5d packets/s%s", f.seen(),
                f.accepted(), f.dropped(), f.perSecond(), f.done() ? " on average" : ""));
        l.add("  firewall      hits  rule");
        for (int i = 0; i < DemoScenario.RULES.size(); i++) {
            DemoScenario.Rule r = DemoScenario.RULES.get(i);
            l.add(String.format("             %7d  %d %-28s (%s)", f.ruleHits().get(i), i + 1, r.text(), r.why()));
        }
        l.add(String.format("             %7d  - %-28s (no rule matched)", f.defaultHits(), "accept"));
        if (f.flows().isPresent()) {
            FlowSetup.Counts c = f.flows().get();
            l.add("  ratelimit  off: with flow offload a connection is decided on its first packet");
            l.add(String.format("  flows      %7d packets reached the queue  %7d passed without it (accepted flows)  "
                    + "%7d dropped without it (dropped flows)", f.seen(), c.carried(), c.killed()));
        } else {
            l.add(String.format("  ratelimit  %7d dropped over %d/s per source (burst %d), %d sources", f.rateLimited(),
                    DemoScenario.LIMIT_RATE, DemoScenario.LIMIT_BURST, f.sources()));
        }
        l.add("  kernel     " + f.kernel().map(ProcQueueStats::counters).orElse("queue not bound"));
        return l;
    }
}
