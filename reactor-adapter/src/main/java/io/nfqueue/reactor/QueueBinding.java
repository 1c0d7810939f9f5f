package io.nfqueue.reactor;

import java.nio.file.Path;
import java.util.Optional;

/**
 * A queue a subscription bound, as its bound and unbound hooks see it
 * ({@link ReceiverOptions#doOnBound}, {@link ReceiverOptions#doOnUnbound}).
 *
 * @param queueNumber      the queue
 * @param networkNamespace the namespace it is bound in, when not the process's own
 * @param portId           the netlink port id of the socket that owns it (field 2 of
 *                         {@code /proc/net/netfilter/nfnetlink_queue})
 */
public record QueueBinding(int queueNumber, Optional<Path> networkNamespace, long portId) {
}
