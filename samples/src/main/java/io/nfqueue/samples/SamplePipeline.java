package io.nfqueue.samples;

import io.nfqueue.Packet;
import io.nfqueue.QueueOptions;
import io.nfqueue.Verdict;
import reactor.core.publisher.Flux;

import java.io.PrintStream;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;

/**
 * A sample whose verdicts come from one Reactor pipeline, so that the same function runs live,
 * on a kernel queue ({@code firewall --queue N ...}), and in a replay of a capture on the test
 * kit's queue ({@code replay --pcap FILE firewall ...}): what the replay reports is what the live
 * command would have done with those packets.
 *
 * @param command        the command's name
 * @param pipeline       gives each packet its verdict; for {@code PacketReceiver.receive(pipeline)}
 * @param defaultVerdict for a packet the pipeline leaves without one (the receiver's default)
 * @param banner         what the command says about itself when it starts ("5 rules, default accept")
 * @param report         its counters, at any time
 */
record SamplePipeline(String command, Function<Flux<Packet>, Flux<Packet>> pipeline, Verdict defaultVerdict,
                      Supplier<String> banner, Supplier<String> report) {
    /** Runs the pipeline on a kernel queue until --duration or Ctrl-C, as {@link ReceiverRun} does. */
    void runLive(RunOptions common, PrintStream out) throws InterruptedException {
        runLive(common, UnaryOperator.identity(), out);
    }

    /** As {@link #runLive(RunOptions, PrintStream)}, with {@code tune} applied to the queue's options (flow offload). */
    void runLive(RunOptions common, UnaryOperator<QueueOptions> tune, PrintStream out) throws InterruptedException {
        runLive(common, tune, common.warmUp, out);
    }

    /** As above, with a warm-up of {@code warmUp} packets instead of --warm-up's (0: done already). */
    void runLive(RunOptions common, UnaryOperator<QueueOptions> tune, int warmUp, PrintStream out) throws InterruptedException {
        ReceiverRun.run(command, common.queue, common.netns, tune, warmUp, defaultVerdict,
                receiver -> receiver.receive(pipeline), banner, report, common.interval, common.duration, out);
    }
}
