package com.example.portguard;

import io.nfqueue.Verdict;
import io.nfqueue.reactor.PacketReceiver;
import io.nfqueue.reactor.ReceiverOptions;

import java.util.Set;

/**
 * Runs the guard on a real queue (root or CAP_NET_ADMIN, and a rule such as
 * {@code iptables -A INPUT -p udp -j NFQUEUE --queue-num 1 --queue-bypass}):
 * {@code java -cp ... com.example.portguard.Main 1}. The test needs neither.
 */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        int queue = args.length > 0 ? Integer.parseInt(args[0]) : 1;
        PortGuard guard = new PortGuard(Set.of(25, 6667));
        PacketReceiver receiver = PacketReceiver.create(ReceiverOptions.queue(queue).defaultVerdict(Verdict.drop()));
        receiver.receive(guard::apply).blockLast();
    }
}
