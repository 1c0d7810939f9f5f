package io.nfqueue.samples;

import io.nfqueue.QueueStats;

import java.util.List;
import java.util.Optional;

/**
 * One refresh of the demo's live display: the counters at one moment.
 *
 * @param elapsedSeconds seconds since the traffic started
 * @param seconds        how long the traffic runs
 * @param done           the traffic is over: this is the final count
 * @param where          the namespace the queue is bound in
 * @param seen           packets the library received from the queue
 * @param accepted       packets accepted (marked or not)
 * @param dropped        packets dropped, by a rule or over the rate
 * @param perSecond      packets seen per second since the last refresh (when done: over the whole run)
 * @param ruleHits       hits of each firewall rule, in the order of {@link DemoScenario#RULES}
 * @param defaultHits    packets no rule matched (accepted by the firewall's default)
 * @param rateLimited    packets over their source's rate, dropped by the rate limiter
 * @param sources        source addresses the rate limiter tracks
 * @param kernel         the kernel's line for the queue, if it is bound
 * @param flows          with flow offload: the flow rules' counters (what the flows carried without the queue)
 */
record DemoFrame(long elapsedSeconds, long seconds, boolean done, String where, long seen, long accepted, long dropped,
                 long perSecond, List<Long> ruleHits, long defaultHits, long rateLimited, int sources,
                 Optional<QueueStats> kernel, Optional<FlowSetup.Counts> flows) {
    /** A frame without flow offload. */
    DemoFrame(long elapsedSeconds, long seconds, boolean done, String where, long seen, long accepted, long dropped,
              long perSecond, List<Long> ruleHits, long defaultHits, long rateLimited, int sources,
              Optional<QueueStats> kernel) {
        this(elapsedSeconds, seconds, done, where, seen, accepted, dropped, perSecond, ruleHits, defaultHits, rateLimited,
                sources, kernel, Optional.empty());
    }
}
