package io.nfqueue;

import io.nfqueue.internal.ErrnoException;
import io.nfqueue.internal.ErrnoNames;
import io.nfqueue.internal.NativeConstants;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Optional;

/** Turns an errno into the public exception a user can act on, with advice in its message. */
final class ErrorMapper {
    private static final String GRANT = "run as root, or grant CAP_NET_ADMIN for the whole run "
            + "(setcap cap_net_admin+ep on the java binary, or systemd AmbientCapabilities=CAP_NET_ADMIN)";

    private ErrorMapper() {
    }

    /** A failure of any operation, without special knowledge of the queue. */
    static NfQueueException map(String operation, int errno) {
        return map(operation, errno, null);
    }

    /**
     * The public exception for {@code errno}, built with its cause: {@link Throwable#initCause}
     * cannot be used afterwards, since these constructors set the cause (to null when there is none).
     */
    private static NfQueueException map(String operation, int errno, Throwable cause) {
        NativeConstants k = NativeConstants.get();
        String what = operation + " failed: " + ErrnoNames.describe(errno);
        if (errno == k.eperm) {
            return new MissingPrivilegeException(what + "; NFQUEUE needs CAP_NET_ADMIN: " + GRANT, operation, errno, cause);
        }
        if (errno == k.eopnotsupp) {
            // UnsupportedKernelFeatureException takes no cause; operation and errno carry all the ErrnoException had.
            return new UnsupportedKernelFeatureException(what + "; the kernel lacks a requested feature", operation, errno);
        }
        return new NfQueueException(what, operation, errno, cause);
    }

    /**
     * A failure thrown by the shim while opening a socket in the namespace at {@code netns} (or
     * null): the message and {@link NfQueueException#operation()} of a namespace step name the path.
     */
    static NfQueueException map(ErrnoException e, Path netns) {
        NativeConstants k = NativeConstants.get();
        boolean namespaceStep = e.operation().startsWith("open network namespace")
                || e.operation().startsWith("setns into network namespace");
        if (netns == null || !namespaceStep) {
            return map(e);
        }
        String operation = e.operation() + " " + netns;
        String what = operation + " failed: " + ErrnoNames.describe(e.errno());
        if (e.errno() == k.enoent && e.operation().startsWith("open network namespace")) {
            return new NfQueueException(what + ": network namespace file " + netns + " does not exist: create "
                    + "the namespace with 'ip netns add NAME' and use /var/run/netns/NAME", operation, e.errno(), e);
        }
        if (e.errno() == k.einval && e.operation().startsWith("setns")) {
            return new NfQueueException(what + ": " + netns + " is not a network namespace file (expected "
                    + "/var/run/netns/NAME or /proc/PID/ns/net)", operation, e.errno(), e);
        }
        if ((e.errno() == k.eperm || e.errno() == k.eacces) && e.operation().startsWith("setns")) {
            return new MissingPrivilegeException(what + "; entering another network namespace needs CAP_SYS_ADMIN: "
                    + "run as root", operation, e.errno(), e);
        }
        return map(operation, e.errno(), e);
    }

    /** A failure thrown by the shim during set-up. */
    static NfQueueException map(ErrnoException e) {
        NativeConstants k = NativeConstants.get();
        if ((e.errno() == k.eperm || e.errno() == k.eacces) && e.operation().startsWith("setns")) {
            return new MissingPrivilegeException(e.getMessage()
                    + "; entering another network namespace needs CAP_SYS_ADMIN: run as root",
                    e.operation(), e.errno(), e);
        }
        if (e.errno() == k.enoent && e.operation().startsWith("open network namespace")) {
            return new NfQueueException(e.getMessage() + "; the namespace file does not exist (create it with "
                    + "'ip netns add NAME', then use /var/run/netns/NAME)", e.operation(), e.errno(), e);
        }
        return map(e.operation(), e.errno(), e);
    }

    /**
     * A failed ctnetlink operation ({@link FlowDecisions}): a missing privilege, a kernel without
     * ctnetlink, or another errno. A kernel without nfnetlink refuses the socket with
     * EPROTONOSUPPORT; the shim reports a missing ctnetlink subsystem (nfnetlink's EINVAL to its
     * well-formed dump request) the same way; ENOENT and EOPNOTSUPP are taken as a missing or
     * partial module too.
     */
    static NfQueueException conntrackFailure(String operation, int errno) {
        NativeConstants k = NativeConstants.get();
        String what = operation + " failed: " + ErrnoNames.describe(errno);
        if (errno == k.eperm || errno == k.eacces) {
            return new MissingPrivilegeException(what + "; changing conntrack entries needs CAP_NET_ADMIN: " + GRANT,
                    operation, errno, null);
        }
        if (errno == k.eprotonosupport || errno == k.enoent || errno == k.eopnotsupp) {
            return new UnsupportedKernelFeatureException(what + "; this kernel has no ctnetlink (conntrack over "
                    + "netlink): load the module with 'modprobe nf_conntrack_netlink', or use a kernel built with "
                    + "CONFIG_NF_CT_NETLINK", operation, errno);
        }
        if (errno == k.enomem) {
            return new NfQueueException(what + "; too many connections to hold their tuples (the shim keeps at most "
                    + "128 MiB of them); narrow the table first", operation, errno, null);
        }
        return map(operation, errno);
    }

    /**
     * A failed bind. EPERM means either "no CAP_NET_ADMIN" or "another socket owns the queue";
     * the proc file tells which: it lists the owner's port id.
     */
    static NfQueueException bindFailure(int queue, int errno, int ourPortId, Path netns,
                                               String requestedFeatures) {
        NativeConstants k = NativeConstants.get();
        String operation = "bind queue " + queue;
        if (errno == k.eperm) {
            Optional<QueueStats> owner;
            try {
                owner = QueueStats.find(netns, queue);
            } catch (RuntimeException e) {
                owner = Optional.empty();
            }
            if (owner.isPresent() && owner.get().portId() != Integer.toUnsignedLong(ourPortId)) {
                long port = owner.get().portId();
                long pid = Files.isDirectory(Paths.get("/proc", Long.toString(port))) ? port : -1;
                String who = pid > 0 ? "process " + pid + " (" + command(pid) + ")" : "netlink port " + port;
                return new QueueAlreadyBoundException("queue " + queue + " is already bound by " + who
                        + (netns == null ? "" : " in network namespace " + netns)
                        + ": stop that process or use another queue number", operation, errno, queue, port, pid);
            }
            return new MissingPrivilegeException("binding queue " + queue + " was refused (EPERM): "
                    + "NFQUEUE needs CAP_NET_ADMIN: " + GRANT, operation, errno, null);
        }
        if (errno == k.eopnotsupp) {
            return new UnsupportedKernelFeatureException("binding queue " + queue + " with " + requestedFeatures
                    + " failed: EOPNOTSUPP: this kernel does not support one of them (conntrack needs "
                    + "CONFIG_NETFILTER_NETLINK_GLUE_CT, security context CONFIG_NETWORK_SECMARK); turn it off",
                    operation, errno);
        }
        return map(operation, errno);
    }

    private static String command(long pid) {
        try {
            return Files.readString(Paths.get("/proc", Long.toString(pid), "comm")).trim();
        } catch (Exception e) {
            return "?";
        }
    }
}
