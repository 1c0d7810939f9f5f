package io.nfqueue.reactor;

import io.nfqueue.test.OfferedPacket;
import io.nfqueue.test.Packets;
import io.nfqueue.test.TestQueue;

import java.util.List;

/** Packets for the adapter's tests on the kit, where what matters is how many and in what order. */
final class KitPackets {
    private KitPackets() {
    }

    /**
     * Offers {@code count} UDP datagrams from 10.0.0.1 to 10.0.0.2, each from its own source port
     * (49152 on) and carrying its number ("1", "2", ...); a fresh test queue gives them ids 1..count.
     */
    static List<OfferedPacket> offerUdp(TestQueue queue, int count) {
        byte[][] packets = new byte[count][];
        for (int i = 0; i < count; i++) {
            packets[i] = Packets.udp().from("10.0.0.1", 49152 + i % 16384).to("10.0.0.2", 9)
                    .payload(Integer.toString(i + 1)).build();
        }
        return queue.offer(packets);
    }
}
