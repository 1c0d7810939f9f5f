package io.nfqueue.samples;

import java.util.ArrayList;
import java.util.List;

/**
 * The demo's network: a client and a server namespace joined by a veth pair, the client's
 * addresses on its end, the server's on the other, and the queue rule in the server's INPUT
 * chain (see {@link DemoScenario}). The link is created with both ends already inside the two
 * namespaces, so the host's namespace never holds it, and deleting the namespaces removes the
 * link and the rule with them: {@link #delete()} is the one undo for all of it.
 */
final class DemoNetwork {
    private final DemoNamespace client;
    private final DemoNamespace server;

    private DemoNetwork(DemoNamespace client, DemoNamespace server) {
        this.client = client;
        this.server = server;
    }

    /** Makes both namespaces and the link, and adds the queue rule; on failure removes what it made. */
    static DemoNetwork create() {
        return create(true);
    }

    /** {@code queueRule}: add {@link DemoScenario#QUEUE_RULE} (false: the caller adds flow offload rules instead). */
    static DemoNetwork create(boolean queueRule) {
        DemoNamespace client = DemoNamespace.create("client");
        DemoNamespace server = null;
        try {
            server = DemoNamespace.create("server");
            DemoNetwork net = new DemoNetwork(client, server);
            net.link();
            if (queueRule) {
                List<String> rule = new ArrayList<>(List.of("iptables", "-w"));
                rule.addAll(DemoScenario.queueRule());
                server.exec(rule.toArray(new String[0]));
            }
            return net;
        } catch (RuntimeException e) {
            if (server != null) {
                deleteQuietly(server, e);
            }
            deleteQuietly(client, e);
            throw e;
        }
    }

    private void link() {
        Command.run("ip", "-n", client.name(), "link", "add", DemoScenario.CLIENT_IF, "type", "veth", "peer", "name",
                DemoScenario.SERVER_IF, "netns", server.name());
        for (String address : DemoScenario.clientAddresses()) {
            Command.run("ip", "-n", client.name(), "addr", "add", address + "/" + DemoScenario.PREFIX_LENGTH, "dev",
                    DemoScenario.CLIENT_IF);
        }
        Command.run("ip", "-n", server.name(), "addr", "add", DemoScenario.SERVER + "/" + DemoScenario.PREFIX_LENGTH,
                "dev", DemoScenario.SERVER_IF);
        Command.run("ip", "-n", client.name(), "link", "set", DemoScenario.CLIENT_IF, "up");
        Command.run("ip", "-n", server.name(), "link", "set", DemoScenario.SERVER_IF, "up");
    }

    private static void deleteQuietly(DemoNamespace ns, RuntimeException cause) {
        try {
            ns.delete();
        } catch (RuntimeException e) {
            cause.addSuppressed(e);
        }
    }

    DemoNamespace client() {
        return client;
    }

    DemoNamespace server() {
        return server;
    }

    /** Removes both namespaces, and with them the link and the rule; a no-op for what is gone. */
    void delete() {
        RuntimeException first = null;
        for (DemoNamespace ns : List.of(server, client)) {
            try {
                ns.delete();
            } catch (RuntimeException e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }

    /** "nfq-demo-1-1-client and nfq-demo-1-2-server". */
    String describe() {
        return client.name() + " and " + server.name();
    }
}
