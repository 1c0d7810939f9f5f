package io.nfqueue.packet;

import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.IntSupplier;

/**
 * Drives every parser accessor and editor operation over arbitrary bytes, letting only the
 * documented exceptions through, and fails a run that does not finish within a bound (a hang).
 */
final class Exercise {
    private static final ExecutorService RUNNER = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "packet-property-runner");
        t.setDaemon(true);
        return t;
    });

    private Exercise() {
    }

    /** What happened to the bytes. */
    enum Outcome { PARSED, MALFORMED }

    /** Parses and, if that works, reads everything; documented exceptions become outcomes. */
    static Outcome everything(byte[] bytes) {
        return withinBound(() -> run(bytes));
    }

    private static Outcome run(byte[] bytes) {
        PacketParser p = new PacketParser();
        try {
            p.parse(ByteBuffer.wrap(bytes));
        } catch (MalformedPacketException e) {
            if (p.ipVersion() != 0) {
                throw new AssertionError("a failed parse left the parser filled", e);
            }
            return Outcome.MALFORMED;
        }
        readAll(p);
        edit(bytes, p);
        return Outcome.PARSED;
    }

    private static void readAll(PacketParser p) {
        long sink = p.protocol() + p.sourcePort() + p.destinationPort() + p.end() + p.transportOffset();
        byte[] address = new byte[16];
        sink += p.copySourceAddress(address, 0) + p.copyDestinationAddress(address, 0);
        InetAddress src = p.sourceAddress();
        sink += src.hashCode() + p.destinationAddress().hashCode();
        sink += p.transportPayloadOffset() + p.transportPayloadLength() + p.transportPayload().remaining();
        sink += p.ipChecksumStatus().ordinal() + p.transportChecksumStatus().ordinal();
        if (p.transportChecksumStatus() != ChecksumStatus.UNVERIFIABLE) {
            sink += p.computeTransportChecksum();
        }
        sink += p.toString().length();
        if (p.isIpv4()) {
            Ipv4View ip = p.ipv4();
            sink += ip.dscp() + ip.ecn() + ip.identification() + ip.fragmentOffset() + ip.ttl()
                    + ip.computeHeaderChecksum() + ip.options().remaining() + (ip.isFragment() ? 1 : 0);
            sink += options(() -> ip.findOption(0x44));
        } else {
            Ipv6View ip = p.ipv6();
            sink += ip.trafficClass() + ip.flowLabel() + ip.hopLimit() + ip.extensionHeaderCount()
                    + ip.finalDestinationOffset() + ip.fragmentOffset() + ip.fragmentIdentification()
                    + (ip.moreFragments() ? 1 : 0);
        }
        if (p.isTcp()) {
            TcpView t = p.tcp();
            sink += t.sequenceNumber() + t.acknowledgmentNumber() + t.flags() + t.window() + t.urgentPointer()
                    + t.payload().remaining();
            sink += options(t::mss) + options(t::windowScale) + options(() -> t.sackPermitted() ? 1 : 0)
                    + options(() -> t.findOption(TcpView.OPTION_TIMESTAMPS));
        } else if (p.isUdp()) {
            sink += p.udp().length() + p.udp().checksum() + p.udp().payload().remaining();
        } else if (p.isIcmp()) {
            sink += p.icmp().type() + p.icmp().restOfHeader() + p.icmp().payload().remaining();
        } else if (p.isIcmpv6()) {
            sink += p.icmpv6().code() + p.icmpv6().sequenceNumber() + p.icmpv6().payload().remaining();
        }
        if (sink == Long.MIN_VALUE) {
            throw new AssertionError("unreachable; keeps the reads");
        }
    }

    /** Option walks may find the options malformed: that is documented. */
    private static long options(IntSupplier walk) {
        try {
            return walk.getAsInt();
        } catch (MalformedPacketException e) {
            return 0;
        }
    }

    private static void edit(byte[] bytes, PacketParser p) {
        PacketEditor editor;
        try {
            editor = PacketEditor.of(bytes);
        } catch (PacketEditRefusedException e) {
            if (e.reason() != PacketEditRefusedException.Reason.TRUNCATED) {
                throw new AssertionError("of(byte[]) refuses only truncated copies", e);
            }
            return;
        }
        editor.ttl(3).dscp(5);
        try {
            editor.transportPayload(new byte[]{1, 2, 3}).allowTcpLengthChange();
            if (p.isTcp() || p.isUdp()) {
                editor.sourcePort(7).destinationPort(8);
            }
        } catch (PacketEditRefusedException expected) {
            // fragments, unsupported protocols, AH: documented refusals
        }
        byte[] out = editor.build();
        PacketParser rebuilt = PacketParser.of(out);
        if (rebuilt.isIpv4() && rebuilt.ipChecksumStatus() != ChecksumStatus.VALID
                && p.ipChecksumStatus() == ChecksumStatus.VALID) {
            throw new AssertionError("edit broke a valid IPv4 header checksum");
        }
        if (p.transportChecksumStatus() == ChecksumStatus.VALID
                && rebuilt.transportChecksumStatus() == ChecksumStatus.INVALID) {
            throw new AssertionError("edit broke a valid transport checksum: " + rebuilt);
        }
    }

    private static <T> T withinBound(Callable<T> body) {
        Future<T> f = RUNNER.submit(body);
        try {
            return f.get(5, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            f.cancel(true);
            throw new AssertionError("parsing did not finish within 5 s: a hang");
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof Error) {
                throw (Error) cause;
            }
            throw new AssertionError("undocumented exception " + cause, cause);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
