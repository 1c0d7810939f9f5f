package io.nfqueue.internal;

import java.util.List;
import java.util.Locale;

/**
 * Loads the shim for this JVM's architecture and calls into it without a kernel queue; then tries
 * a netlink socket, and a queue bind through it, and reports what happened. The aarch64 check
 * (native/check-natives) runs it with an arm64 JVM under qemu-user; it runs anywhere.
 *
 * <p>Exit status 0 when the library loaded and every check of it passed, whatever the netlink
 * part found (qemu-user refuses NETLINK_NETFILTER sockets); 1 otherwise. Args: [queue number]
 * [network namespace path].
 */
public final class NativeSmokeMain {
    private static final int EPROTONOSUPPORT = 93;

    private NativeSmokeMain() {
    }

    public static void main(String[] args) {
        int queue = args.length > 0 ? Integer.parseInt(args[0]) : 4711;
        String netns = args.length > 1 ? args[1] : null;
        System.out.println("jvm: " + System.getProperty("java.vm.name") + " " + System.getProperty("java.version")
                + ", os.arch=" + System.getProperty("os.arch") + ", shim linux-" + NativeLibraryLoader.arch());
        Natives.ensureLoaded(); // version and constant-table checks; throws with the cause
        String[] names = Natives.constantNames();
        List<String> problems = ShimAbi.mismatches(names, Natives::constant);
        String eperm = ErrnoNames.describe(NativeConstants.get().eperm);
        System.out.println("loaded: version " + Natives.version() + " from " + (NativeLibraryLoader.fromLibraryPath()
                ? "java.library.path" : "the class path") + ", " + names.length + " constants, mismatches " + problems
                + ", " + eperm);
        boolean ok = problems.isEmpty() && names.length == ShimAbi.values().size()
                && Natives.version().equals(LibraryVersion.CURRENT) && eperm.startsWith("EPERM (errno ");
        System.out.println("netlink (" + (netns == null ? "this namespace" : netns) + "): " + netlink(queue, netns));
        System.out.println(ok ? "SMOKE OK" : "SMOKE FAILED");
        System.exit(ok ? 0 : 1);
    }

    /** Opens a netlink socket, binds {@code queue} (kernel's ack awaited), unbinds; says how far it got. */
    private static String netlink(int queue, String netns) {
        NativeTransport t;
        try {
            t = NativeTransport.open(netns, 1 << 16, 1 << 16);
        } catch (ErrnoException e) {
            // 93 is EPROTONOSUPPORT on Linux (asm-generic, x86_64 and aarch64 alike).
            return "socket refused: " + e.getMessage() + (e.errno() == EPROTONOSUPPORT ? " (EPROTONOSUPPORT: "
                    + "qemu-user passes only some netlink protocols through, not NETLINK_NETFILTER)" : "");
        }
        try {
            NativeConstants k = NativeConstants.get();
            String port = "port id " + t.portId() + ", receive buffer " + t.receiveBufferSize();
            int rc = t.configure(queue, k.cmdBind, k.copyPacket, 0xffff, -1, -1, -1, true);
            if (rc < 0) {
                return "opened (" + port + "), bind of queue " + queue + " refused: " + ErrnoNames.describe(-rc);
            }
            int unbind = t.configure(queue, k.cmdUnbind, -1, -1, -1, -1, -1, true);
            return String.format(Locale.ROOT, "opened (%s), queue %d bound and unbound (rc %d, %d)", port, queue, rc,
                    unbind);
        } finally {
            t.close();
        }
    }
}
