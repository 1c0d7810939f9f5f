package io.nfqueue.testing;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;

/**
 * A child process's sender: {@code UdpSendMain HOST PORT TEXT}: sends TEXT once from a fresh UDP
 * socket, prints {@code SENT <pid>} and exits. Used to send from another uid/gid (behind
 * {@code setpriv}) so a test can check the uid/gid the queue reports. Only JDK classes: it runs
 * with a class path of the test classes alone, readable by an unprivileged user.
 */
public final class UdpSendMain {
    private UdpSendMain() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 3) {
            System.out.println("usage: UdpSendMain HOST PORT TEXT");
            System.exit(2);
        }
        byte[] data = args[2].getBytes(StandardCharsets.UTF_8);
        try (DatagramChannel ch = DatagramChannel.open()) {
            int n = ch.send(ByteBuffer.wrap(data), new InetSocketAddress(args[0], Integer.parseInt(args[1])));
            if (n != data.length) {
                System.out.println("FAILED sent " + n + " of " + data.length);
                System.exit(1);
            }
        }
        System.out.println("SENT " + ProcessHandle.current().pid());
    }
}
