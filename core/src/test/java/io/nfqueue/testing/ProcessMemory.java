package io.nfqueue.testing;

import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.management.ObjectName;

/**
 * This JVM's memory as the kernel and the JVM see it, in KiB, for programs and child JVMs that
 * measure themselves: RSS and its peak from {@code /proc/self/status}, direct buffers, and native
 * memory tracking (NMT) read in-process through the {@code DiagnosticCommand} MBean (the same as
 * {@code jcmd PID VM.native_memory}, without starting another JVM).
 *
 * <p>NMT counts what the JVM allocates (heap, metaspace, threads, code cache, GC, compiler, and
 * direct buffers under "Other"), not the {@code malloc} calls of native libraries such as the shim
 * or libnetfilter_queue: RSS is what covers those. Files are read with {@link FileInputStream}, not
 * NIO, which would take temporary direct buffers and disturb the direct-buffer figure.
 */
public final class ProcessMemory {
    private static final Pattern NMT_TOTAL = Pattern.compile("Total: reserved=(\\d+)KB, committed=(\\d+)KB");
    private static final Pattern NMT_HEAP = Pattern.compile("Java Heap \\(reserved=(\\d+)KB, committed=(\\d+)KB\\)");

    private ProcessMemory() {
    }

    /** Resident set size now (VmRSS). */
    public static long rssKiB() {
        return statusKiB("VmRSS:");
    }

    /** Peak resident set size (VmHWM) since the start or the last {@link #resetPeakRss()}. */
    public static long peakRssKiB() {
        return statusKiB("VmHWM:");
    }

    /** Resets the kernel's peak RSS (VmHWM) to the current RSS ("5" into clear_refs, Linux 4.0+). */
    public static void resetPeakRss() {
        try (FileOutputStream out = new FileOutputStream("/proc/self/clear_refs")) {
            out.write('5');
        } catch (IOException e) {
            throw new UncheckedIOException("cannot reset the peak RSS", e);
        }
    }

    /** Memory used by direct buffers ({@code ByteBuffer.allocateDirect}). */
    public static long directKiB() {
        for (BufferPoolMXBean pool : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) {
            if (pool.getName().equals("direct")) {
                return pool.getMemoryUsed() >> 10;
            }
        }
        return 0;
    }

    /** Heap in use (garbage included unless a GC just ran). */
    public static long heapUsedKiB() {
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed() >> 10;
    }

    /** True when this JVM runs with {@code -XX:NativeMemoryTracking=summary} (or detail). */
    public static boolean nmtEnabled() {
        String v = ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
                .filter(a -> a.startsWith("-XX:NativeMemoryTracking="))
                .reduce((a, b) -> b).orElse("off");
        return !v.endsWith("=off");
    }

    /** {@code jcmd PID VM.native_memory ARGS} run in-process, e.g. "summary", "baseline", "summary.diff". */
    public static String nmt(String... args) {
        try {
            return (String) ManagementFactory.getPlatformMBeanServer().invoke(
                    new ObjectName("com.sun.management:type=DiagnosticCommand"), "vmNativeMemory",
                    new Object[] {args}, new String[] {String[].class.getName()});
        } catch (Exception e) {
            throw new IllegalStateException("VM.native_memory " + String.join(" ", args) + " failed", e);
        }
    }

    /** NMT: {committed in all, committed outside the Java heap}; throws without NMT. */
    public static long[] nmtCommittedKiB() {
        String summary = nmt("summary");
        Matcher total = NMT_TOTAL.matcher(summary);
        Matcher heap = NMT_HEAP.matcher(summary);
        if (!total.find() || !heap.find()) {
            throw new IllegalStateException("no NMT summary (run with -XX:NativeMemoryTracking=summary):\n" + summary);
        }
        long committed = Long.parseLong(total.group(2));
        return new long[] {committed, committed - Long.parseLong(heap.group(2))};
    }

    private static long statusKiB(String key) {
        String status;
        try (FileInputStream in = new FileInputStream("/proc/self/status")) {
            status = new String(in.readAllBytes(), StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read /proc/self/status", e);
        }
        for (String line : status.split("\n")) {
            if (line.startsWith(key)) {
                return Long.parseLong(line.substring(key.length()).trim().split("\\s+")[0]);
            }
        }
        throw new IllegalStateException(key + " not in /proc/self/status");
    }
}
