package io.nfqueue.samples;

import io.nfqueue.reactor.ReceiverOptions;
import io.nfqueue.test.TestQueue;
import reactor.test.StepVerifier;

import java.time.Duration;

/**
 * Runs a sample's pipeline as its live command does ({@link SamplePipeline#runLive}: the same
 * function, the same default verdict, on a {@code PacketReceiver}) over the packets offered to a
 * test queue, so the samples' unit tests check the code the commands run.
 */
final class SampleOnTestQueue {
    private SampleOnTestQueue() {
    }

    /** Returns once every packet offered to {@code queue} so far went through {@code sample}'s pipeline. */
    static void run(TestQueue queue, SamplePipeline sample) {
        int offered = queue.offered().size();
        ReceiverOptions options = ReceiverOptions.queue(queue.queueNumber()).defaultVerdict(sample.defaultVerdict());
        StepVerifier.create(queue.receive(options, sample.pipeline()).take(offered))
                .expectNextCount(offered)
                .expectComplete()
                .verify(Duration.ofSeconds(10));
    }
}
