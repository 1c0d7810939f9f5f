import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;

/** Bytes allocated on the Java heap by every live thread so far (HotSpot's per-thread counters). */
final class BenchAlloc {
    private BenchAlloc() {
    }

    static long allocatedBytes() {
        ThreadMXBean bean = ManagementFactory.getThreadMXBean();
        if (!(bean instanceof com.sun.management.ThreadMXBean)) {
            return -1;
        }
        com.sun.management.ThreadMXBean hs = (com.sun.management.ThreadMXBean) bean;
        long sum = 0;
        for (long id : hs.getAllThreadIds()) {
            long b = hs.getThreadAllocatedBytes(id);
            if (b > 0) {
                sum += b;
            }
        }
        return sum;
    }

    /** One line for the consumer's log: allocation per packet since {@code since}. */
    static String perPacket(long since, long packets) {
        long now = allocatedBytes();
        if (since < 0 || now < 0 || packets <= 0) {
            return "allocation per packet: n/a";
        }
        return String.format("allocated %d bytes by live threads since bound, %.0f bytes per packet over %d packets",
                now - since, (now - since) / (double) packets, packets);
    }
}
