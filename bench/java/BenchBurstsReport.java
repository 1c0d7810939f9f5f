import io.nfqueue.QueueCounters;
import io.nfqueue.reactor.PacketReceiver;
import io.nfqueue.reactor.QueueBackpressure;

import java.util.List;

/** The RESULT line of {@link BenchBursts}: what the library saw, in key=value form for bench/run. */
final class BenchBurstsReport {
    private BenchBurstsReport() {
    }

    static String result(PacketReceiver receiver, List<QueueBackpressure> backpressure) {
        long received = 0;
        long defaults = 0;
        for (QueueCounters c : receiver.counters()) {
            received += c.received();
            defaults += c.totalDefaultVerdicts();
        }
        StringBuilder s = new StringBuilder("received=" + received + " defaults=" + defaults);
        for (QueueBackpressure b : backpressure) {
            s.append(" maxlength=").append(b.kernelMaxLength())
                    .append(" maxlength_changes=").append(b.maxLengthChanges())
                    .append(" drain_rate=").append(b.drainRate().isPresent() ? Math.round(b.drainRate().getAsDouble()) : -1);
        }
        return s.toString();
    }
}
