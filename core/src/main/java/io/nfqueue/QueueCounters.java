package io.nfqueue;

import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;

/**
 * The library's side of a bound queue, counted since it was bound (the kernel's side is
 * {@link QueueStats}).
 *
 * @param received          packets decoded and handed out
 * @param verdictsSent      verdicts handed to the kernel, including default verdicts; counted as
 *                          the send starts, so never behind what the kernel did with them (a
 *                          send that fails takes its count back)
 * @param defaultVerdicts   default verdicts by cause
 * @param unresolved        packets handed out and still waiting for a verdict
 * @param receiveBufferDrops times the socket reported ENOBUFS (the kernel dropped at least one
 *                          message for want of receive buffer; its count is {@link QueueStats#userDropped()})
 * @param kernelErrors      error acknowledgements the kernel sent back (e.g. ENOENT for an unknown id)
 * @param sendFailures      batches of verdicts that could not be sent
 * @param verdictsLostAtClose verdicts given after the socket closed, which could not be sent (the
 *                          kernel dropped their packets at unbind): a race lost against
 *                          {@code close()}; 0 unless a verdict's thread stalled inside the library
 */
public record QueueCounters(long received, long verdictsSent, Map<DefaultVerdictCause, Long> defaultVerdicts,
                            int unresolved, long receiveBufferDrops, long kernelErrors, long sendFailures,
                            long verdictsLostAtClose) {

    public QueueCounters {
        defaultVerdicts = Collections.unmodifiableMap(new EnumMap<>(defaultVerdicts));
    }

    /** Counters without verdicts lost at close (the form before that count existed). */
    public QueueCounters(long received, long verdictsSent, Map<DefaultVerdictCause, Long> defaultVerdicts,
                         int unresolved, long receiveBufferDrops, long kernelErrors, long sendFailures) {
        this(received, verdictsSent, defaultVerdicts, unresolved, receiveBufferDrops, kernelErrors, sendFailures, 0);
    }

    /** Default verdicts given for {@code cause}. */
    public long defaultVerdicts(DefaultVerdictCause cause) {
        return defaultVerdicts.getOrDefault(cause, 0L);
    }

    /** Default verdicts over all causes. */
    public long totalDefaultVerdicts() {
        long sum = 0;
        for (long n : defaultVerdicts.values()) {
            sum += n;
        }
        return sum;
    }
}
