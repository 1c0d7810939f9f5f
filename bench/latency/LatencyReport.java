import org.HdrHistogram.Histogram;

import javax.imageio.ImageIO;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.File;
import java.io.FileInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;

/**
 * The statistics and the plot of bench/run --latency (kept out of bench/java, which is compiled
 * without HdrHistogram on the class path).
 *
 * <pre>
 * java -cp HdrHistogram.jar:classes LatencyReport stats FILE
 *     FILE: int64 little-endian one-way times in ns, one per datagram (udp_sink -L).
 *     prints "count=N p50=.. p99=.. p999=.. max=.. mean=.. negative=.." (ns)
 * java -cp ... LatencyReport plot TSV PNG
 *     TSV: consumer label, load %, p50, p99, p99.9 added (us), header line first.
 *     draws added p50 and p99 against load, one line per consumer, log scale.
 * </pre>
 *
 * A negative time (the realtime clock stepped between the two stamps) cannot be recorded; it is
 * counted, so the report can show that it happened, and left out.
 */
public final class LatencyReport {
    public static void main(String[] args) throws IOException {
        System.setProperty("java.awt.headless", "true");
        if (args.length == 2 && args[0].equals("stats")) {
            stats(new File(args[1]));
        } else if (args.length == 3 && args[0].equals("plot")) {
            plot(Path.of(args[1]), new File(args[2]));
        } else {
            System.err.println("usage: LatencyReport stats FILE | plot TSV PNG");
            System.exit(2);
        }
    }

    static void stats(File file) throws IOException {
        // 3 significant digits: 1 us resolution at 1 ms, 1 ms at 1 s; auto-resize for long stalls.
        Histogram h = new Histogram(3);
        h.setAutoResize(true);
        long negative = 0;
        byte[] b = new byte[8];
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(new FileInputStream(file), 1 << 20))) {
            while (true) {
                try {
                    in.readFully(b);
                } catch (EOFException e) {
                    break;
                }
                long v = (b[0] & 0xffL) | (b[1] & 0xffL) << 8 | (b[2] & 0xffL) << 16 | (b[3] & 0xffL) << 24
                        | (b[4] & 0xffL) << 32 | (b[5] & 0xffL) << 40 | (b[6] & 0xffL) << 48 | (b[7] & 0xffL) << 56;
                if (v < 0) {
                    negative++;
                } else {
                    h.recordValue(v);
                }
            }
        }
        System.out.printf(Locale.ROOT, "count=%d p50=%d p99=%d p999=%d max=%d mean=%.0f negative=%d%n",
                h.getTotalCount(), h.getValueAtPercentile(50), h.getValueAtPercentile(99),
                h.getValueAtPercentile(99.9), h.getMaxValue(), h.getMean(), negative);
    }

    static final Color[] COLORS = {
        new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c), new Color(0xff7f0e),
        new Color(0x9467bd), new Color(0x8c564b), new Color(0xe377c2), new Color(0x7f7f7f)
    };

    static void plot(Path tsv, File png) throws IOException {
        // consumer -> load -> {p50, p99, p999}
        Map<String, Map<Integer, double[]>> data = new LinkedHashMap<>();
        TreeSet<Integer> loads = new TreeSet<>();
        List<String> lines = Files.readAllLines(tsv);
        for (String line : lines.subList(1, lines.size())) {
            String[] f = line.split("\t");
            if (f.length < 5) {
                continue;
            }
            int load = Integer.parseInt(f[1]);
            loads.add(load);
            data.computeIfAbsent(f[0], k -> new LinkedHashMap<>())
                    .put(load, new double[] {Double.parseDouble(f[2]), Double.parseDouble(f[3]), Double.parseDouble(f[4])});
        }
        int panelW = 560;
        int panelH = 420;
        int w = panelW * 2 + 40;
        int h = panelH + 170;
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, w, h);
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 15));
        g.drawString("Added one-way latency (consumer minus no rule) vs offered load, 64-byte UDP", 20, 24);
        String[] titles = {"p50 added (us)", "p99 added (us)"};
        for (int p = 0; p < 2; p++) {
            drawPanel(g, 20 + p * (panelW + 10), 40, panelW, panelH, titles[p], p, data, loads);
        }
        // legend
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
        int i = 0;
        int x = 30;
        int y = panelH + 80;
        for (String consumer : data.keySet()) {
            g.setColor(COLORS[i % COLORS.length]);
            g.setStroke(new BasicStroke(2.5f));
            int lx = x + (i % 2) * (panelW + 10);
            int ly = y + (i / 2) * 20;
            g.drawLine(lx, ly - 4, lx + 30, ly - 4);
            g.setColor(Color.BLACK);
            g.drawString(consumer, lx + 38, ly);
            i++;
        }
        g.dispose();
        ImageIO.write(img, "png", png);
    }

    static void drawPanel(Graphics2D g, int x0, int y0, int pw, int ph, String title, int which,
            Map<String, Map<Integer, double[]>> data, TreeSet<Integer> loads) {
        int left = x0 + 60;
        int right = x0 + pw - 10;
        int top = y0 + 20;
        int bottom = y0 + ph - 40;
        double lo = Double.MAX_VALUE;
        double hi = 0;
        for (Map<Integer, double[]> m : data.values()) {
            for (double[] v : m.values()) {
                if (v[which] > 0) {
                    lo = Math.min(lo, v[which]);
                    hi = Math.max(hi, v[which]);
                }
            }
        }
        if (hi == 0) {
            lo = 1;
            hi = 10;
        }
        // log scale over whole decades around the data; values <= 0 (no added latency) sit on the floor
        double logLo = Math.floor(Math.log10(lo));
        double logHi = Math.ceil(Math.log10(hi));
        if (logHi <= logLo) {
            logHi = logLo + 1;
        }
        int minLoad = loads.isEmpty() ? 0 : loads.first();
        int maxLoad = loads.isEmpty() ? 100 : loads.last();
        if (maxLoad == minLoad) {
            maxLoad = minLoad + 1;
        }
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 13));
        g.drawString(title, left, y0 + 12);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        g.setStroke(new BasicStroke(1f));
        for (double d = logLo; d <= logHi + 1e-9; d++) {
            int y = (int) Math.round(bottom - (d - logLo) / (logHi - logLo) * (bottom - top));
            g.setColor(new Color(0xdddddd));
            g.drawLine(left, y, right, y);
            g.setColor(Color.BLACK);
            double v = Math.pow(10, d);
            g.drawString(v >= 1 ? String.format(Locale.ROOT, "%.0f", v) : String.format(Locale.ROOT, "%.2g", v), x0 + 5, y + 4);
        }
        for (int load : loads) {
            int x = left + (int) Math.round((double) (load - minLoad) / (maxLoad - minLoad) * (right - left - 20)) + 10;
            g.setColor(new Color(0xeeeeee));
            g.drawLine(x, top, x, bottom);
            g.setColor(Color.BLACK);
            g.drawString(load + "%", x - 10, bottom + 16);
        }
        g.drawString("offered load, % of the C consumer's measured capacity", left + 60, bottom + 32);
        g.drawRect(left, top, right - left, bottom - top);
        int i = 0;
        for (Map.Entry<String, Map<Integer, double[]>> e : data.entrySet()) {
            g.setColor(COLORS[i % COLORS.length]);
            g.setStroke(new BasicStroke(2.5f));
            List<int[]> pts = new ArrayList<>();
            for (Map.Entry<Integer, double[]> p : e.getValue().entrySet()) {
                double v = Math.max(p.getValue()[which], Math.pow(10, logLo));
                int x = left + (int) Math.round((double) (p.getKey() - minLoad) / (maxLoad - minLoad) * (right - left - 20)) + 10;
                int y = (int) Math.round(bottom - (Math.log10(v) - logLo) / (logHi - logLo) * (bottom - top));
                pts.add(new int[] {x, y});
            }
            pts.sort((a, b) -> Integer.compare(a[0], b[0]));
            for (int k = 0; k < pts.size(); k++) {
                g.fillOval(pts.get(k)[0] - 4, pts.get(k)[1] - 4, 8, 8);
                if (k > 0) {
                    g.drawLine(pts.get(k - 1)[0], pts.get(k - 1)[1], pts.get(k)[0], pts.get(k)[1]);
                }
            }
            i++;
        }
    }
}
