package io.nfqueue;

/**
 * Handles one packet on the thread that runs {@link NetfilterQueue#run} or
 * {@link NetfilterQueue#poll}. Give a verdict now, or keep the packet and give it later from
 * any thread. If the handler throws, the packet (if still unresolved) gets the default verdict
 * and the exception leaves {@code run}.
 */
@FunctionalInterface
public interface PacketHandler {
    void handle(Packet packet);
}
