package io.nfqueue.reactor;

import io.nfqueue.Packet;
import io.nfqueue.Verdict;
import reactor.core.Disposable;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A service as users deploy one, for {@link PacketReceiverShutdownKernelTest}: binds QUEUE in the
 * namespace at NETNS with default verdict ACCEPT (fail-open), holds every packet without a verdict
 * (a pipeline still working on them), prints "HELD n" as packets arrive, and waits to be
 * terminated. With "own-hook" it also disposes its subscription from a shutdown hook of its own,
 * the documented pattern; without it, only the library's hook acts. Exits when its stdin closes.
 *
 * <pre>java ... ShutdownReceiverMain QUEUE NETNS own-hook|library-hook</pre>
 */
public final class ShutdownReceiverMain {
    public static void main(String[] args) throws Exception {
        int queue = Integer.parseInt(args[0]);
        Path netns = Path.of(args[1]);
        boolean ownHook = args[2].equals("own-hook");
        PacketReceiver receiver = PacketReceiver.create(ReceiverOptions.queue(queue)
                .defaultVerdict(Verdict.accept())
                .noVerdictTimeout()
                .queueOptions(q -> q.networkNamespace(netns)));
        List<Packet> held = new CopyOnWriteArrayList<>();
        Disposable running = receiver.receive().subscribe(p -> {
            held.add(p);
            System.out.println("HELD " + held.size());
            System.out.flush();
        }, e -> System.out.println("ERROR " + e), () -> System.out.println("COMPLETE"));
        if (ownHook) {
            Runtime.getRuntime().addShutdownHook(new Thread(running::dispose, "service-shutdown"));
        }
        System.out.println("BOUND queue=" + queue);
        System.out.flush();
        // Stays until terminated; a parent that dies closes stdin, and then this ends too.
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
    }
}
