package io.nfqueue.internal.access;

import io.nfqueue.BoundQueue;
import io.nfqueue.QueueOptions;
import io.nfqueue.internal.Transport;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;

/**
 * Binds a {@link BoundQueue} over a given {@link Transport} instead of a netlink socket: for the
 * test kit (nfqueue-test's {@code TestQueue}) and the library's own tests.
 *
 * <p>{@link Transport} is internal, so the method that takes one is not public in
 * {@link BoundQueue} (a public method there would be API of the exported package); it is
 * package-private and reached from here, a package the module exports only to the test kit. The
 * method handle is looked up once with a private lookup in the same module, so this package
 * depends on {@code io.nfqueue} and not the reverse: no package cycle.
 */
public final class TransportBinding {
    private static final MethodHandle OPEN = lookUp();

    private TransportBinding() {
    }

    /**
     * {@code BoundQueue.open(options)} over {@code transport}: binds the queue with one
     * configuration message through it; closes the transport if that fails.
     */
    public static BoundQueue open(QueueOptions options, Transport transport) {
        try {
            return (BoundQueue) OPEN.invokeExact(options, transport);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException(e); // open declares no checked exception
        }
    }

    private static MethodHandle lookUp() {
        try {
            return MethodHandles.privateLookupIn(BoundQueue.class, MethodHandles.lookup()).findStatic(BoundQueue.class,
                    "open", MethodType.methodType(BoundQueue.class, QueueOptions.class, Transport.class));
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}
