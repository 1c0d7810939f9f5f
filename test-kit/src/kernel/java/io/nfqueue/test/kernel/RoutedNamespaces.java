package io.nfqueue.test.kernel;

/**
 * Three namespaces in a line, for traffic that must be forwarded:
 * <pre>
 *   client [c0] 10.199.1.2 fd00:199:1::2 ── [r1] router [r2] ── 10.199.2.2 fd00:199:2::2 [s0] server
 *                        10.199.1.1 fd00:199:1::1      10.199.2.1 fd00:199:2::1
 * </pre>
 * The router forwards IPv4 and IPv6; client and server route everything through it. IPv6
 * addresses skip duplicate address detection so they work at once. Every address lives only
 * inside these namespaces. {@link #close()} removes all three, whatever happened before.
 */
public final class RoutedNamespaces implements AutoCloseable {
    public static final String CLIENT_V4 = "10.199.1.2";
    public static final String SERVER_V4 = "10.199.2.2";
    public static final String CLIENT_V6 = "fd00:199:1::2";
    public static final String SERVER_V6 = "fd00:199:2::2";

    public final NetNamespace client;
    public final NetNamespace router;
    public final NetNamespace server;

    private RoutedNamespaces(NetNamespace client, NetNamespace router, NetNamespace server) {
        this.client = client;
        this.router = router;
        this.server = server;
    }

    public static RoutedNamespaces create() {
        NetNamespace client = null;
        NetNamespace router = null;
        NetNamespace server = null;
        try {
            client = NetNamespace.create();
            router = NetNamespace.create();
            server = NetNamespace.create();
            link(client, "c0", "10.199.1.2/24", "fd00:199:1::2/64", router, "r1", "10.199.1.1/24", "fd00:199:1::1/64");
            link(server, "s0", "10.199.2.2/24", "fd00:199:2::2/64", router, "r2", "10.199.2.1/24", "fd00:199:2::1/64");
            client.ip("route", "add", "default", "via", "10.199.1.1");
            client.ip("-6", "route", "add", "default", "via", "fd00:199:1::1");
            server.ip("route", "add", "default", "via", "10.199.2.1");
            server.ip("-6", "route", "add", "default", "via", "fd00:199:2::1");
            router.enableForwarding();
            return new RoutedNamespaces(client, router, server);
        } catch (RuntimeException | Error e) {
            for (NetNamespace ns : new NetNamespace[] {client, router, server}) {
                if (ns != null) {
                    ns.close();
                }
            }
            throw e;
        }
    }

    /** A veth pair from {@code a} to {@code b}, both ends up with an IPv4 and an IPv6 address. */
    static void link(NetNamespace a, String aIf, String aV4, String aV6, NetNamespace b, String bIf, String bV4, String bV6) {
        a.ip("link", "add", aIf, "type", "veth", "peer", "name", bIf, "netns", b.name());
        for (Object[] end : new Object[][] {{a, aIf, aV4, aV6}, {b, bIf, bV4, bV6}}) {
            NetNamespace ns = (NetNamespace) end[0];
            String ifname = (String) end[1];
            ns.ip("addr", "add", (String) end[2], "dev", ifname);
            ns.ip("-6", "addr", "add", (String) end[3], "dev", ifname, "nodad");
            ns.ip("link", "set", ifname, "up");
        }
    }

    @Override
    public void close() {
        client.close();
        router.close();
        server.close();
    }
}
