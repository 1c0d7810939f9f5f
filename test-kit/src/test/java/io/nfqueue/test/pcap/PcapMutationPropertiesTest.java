package io.nfqueue.test.pcap;

import io.nfqueue.test.pcap.PcapTestFiles.Classic;
import io.nfqueue.test.pcap.PcapTestFiles.Pcapng;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.statistics.Statistics;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static io.nfqueue.test.pcap.PcapTestFiles.ethernet;
import static io.nfqueue.test.pcap.PcapTestFiles.ipv4Udp;
import static io.nfqueue.test.pcap.PcapTestFiles.ipv6Udp;
import static io.nfqueue.test.pcap.PcapTestFiles.loopback;
import static io.nfqueue.test.pcap.PcapTestFiles.sll2;
import static io.nfqueue.test.pcap.PcapTestFiles.sll;
import static io.nfqueue.test.pcap.PcapTestFiles.utf8;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Whatever is done to a valid capture (bits flipped, bytes overwritten, inserted or removed,
 * lengths set to 0, to the limit or to 2^32 - 1, the file cut anywhere), reading it ends, soon,
 * in a list of records or a {@link CaptureFormatException}, and decoding those records ends in
 * packets or counted skips: never another exception, an {@link OutOfMemoryError} or a hang.
 */
class PcapMutationPropertiesTest {
    private static final String SEED = "20261202";
    private static final Duration BOUND = Duration.ofSeconds(10);
    private static final List<byte[]> SEEDS = seeds();

    @Provide
    Arbitrary<byte[]> seedFiles() {
        return Arbitraries.of(SEEDS);
    }

    @Property(tries = 1500, seed = SEED)
    void mutatedCapturesReadOrFailAsFormatErrors(@ForAll("seedFiles") byte[] file, @ForAll long seed,
                                                 @ForAll @IntRange(min = 1, max = 4) int mutations) {
        Random r = new Random(seed);
        byte[] m = file;
        for (int i = 0; i < mutations; i++) {
            m = mutate(m, r);
        }
        Statistics.collect(readAndDecode(m));
    }

    /** A valid header, then noise: the noise reaches the record and block parsers. */
    @Property(tries = 500, seed = SEED)
    void noiseAfterAValidHeaderReadsOrFails(@ForAll("seedFiles") byte[] file, @ForAll long seed,
                                            @ForAll @IntRange(min = 0, max = 600) int noise) {
        Random r = new Random(seed);
        int header = file[0] == 0x0A ? 40 : 24;     // PcapTestFiles' section header, or the classic file header
        byte[] m = Arrays.copyOf(file, header + noise);
        for (int i = header; i < m.length; i++) {
            m[i] = (byte) (r.nextInt(4) == 0 ? 0 : r.nextInt(256));    // zeros are frequent in real headers
        }
        Statistics.collect(readAndDecode(m));
    }

    private static String readAndDecode(byte[] file) {
        return assertTimeoutPreemptively(BOUND, () -> {
            List<CaptureRecord> records;
            try {
                records = CaptureReader.readAll(new ByteArrayInputStream(file));
            } catch (CaptureFormatException e) {
                return e instanceof TruncatedCaptureException ? "truncated" : "format error";
            } catch (Throwable t) {
                throw new AssertionError("not a CaptureFormatException: " + t, t);
            }
            LinkLayerDecoder decoder = new LinkLayerDecoder();
            for (CaptureRecord record : records) {
                try {
                    decoder.decode(record).ifPresent(ip -> ip.payloadBytes());
                } catch (RuntimeException e) {
                    fail("decoding " + record + " threw " + e, e);
                }
            }
            return records.isEmpty() ? "no records" : "records";
        }, "reading a mutated capture took over " + BOUND);
    }

    private static final int[] INTERESTING = {0, 1, 4, 8, 12, 16, 28, 0x7fff, 0xffff, 0x7fffffff, -1, 0x80000000,
        CaptureReader.MAX_BLOCK_BYTES, CaptureReader.MAX_BLOCK_BYTES + 4, 0x1A2B3C4D, 0x4D3C2B1A, 0x0A0D0D0A, 1 << 20};

    private static byte[] mutate(byte[] f, Random r) {
        if (f.length < 8) {
            return Arrays.copyOf(f, f.length + r.nextInt(64));
        }
        byte[] m = f.clone();
        switch (r.nextInt(8)) {
            case 0 -> {
                return Arrays.copyOf(m, r.nextInt(m.length + 1));                              // cut anywhere
            }
            case 1 -> m[r.nextInt(m.length)] ^= (byte) (1 << r.nextInt(8));                    // one bit
            case 2 -> m[r.nextInt(m.length)] = (byte) r.nextInt(256);                           // one byte
            case 3, 4 -> {                                                                      // a length field, say
                int at = r.nextBoolean() ? r.nextInt(m.length - 3) & ~3 : r.nextInt(m.length - 3);
                int value = INTERESTING[r.nextInt(INTERESTING.length)];
                ByteBuffer.wrap(m).order(r.nextBoolean() ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN).putInt(at, value);
            }
            case 5 -> {                                                                         // bytes inserted
                int at = r.nextInt(m.length + 1);
                byte[] extra = new byte[1 + r.nextInt(16)];
                r.nextBytes(extra);
                byte[] n = Arrays.copyOf(m, m.length + extra.length);
                System.arraycopy(m, at, n, at + extra.length, m.length - at);
                System.arraycopy(extra, 0, n, at, extra.length);
                return n;
            }
            case 6 -> {                                                                         // bytes removed
                int at = r.nextInt(m.length);
                int n = 1 + r.nextInt(Math.min(16, m.length - at));
                byte[] shorter = Arrays.copyOf(m, m.length - n);
                System.arraycopy(m, at + n, shorter, at, m.length - at - n);
                return shorter;
            }
            default -> {                                                                        // a range repeated
                int at = r.nextInt(m.length);
                int n = 1 + r.nextInt(Math.min(64, m.length - at));
                byte[] longer = Arrays.copyOf(m, m.length + n);
                System.arraycopy(m, at, longer, at + n, m.length - at);
                return longer;
            }
        }
        return m;
    }

    /** Valid files of every kind the reader knows, built and captured. */
    private static List<byte[]> seeds() {
        byte[] v4 = ipv4Udp(1000, 53, utf8("four"));
        byte[] v6 = ipv6Udp(1000, 53, utf8("six"));
        List<byte[]> seeds = new ArrayList<>();
        seeds.add(new Classic(ByteOrder.LITTLE_ENDIAN, false, LinkTypes.ETHERNET, 65535)
                .record(1, 2, ethernet(0x0800, v4, 0x8100)).record(3, 4, ethernet(0x0806, new byte[28]))
                .record(5, 6, Arrays.copyOf(ethernet(0x86DD, v6), 30), 14 + v6.length).bytes());
        seeds.add(new Classic(ByteOrder.BIG_ENDIAN, true, LinkTypes.LINUX_SLL2, 0)
                .record(1, 2, sll2(0x0800, 3, 0, v4)).record(3, 4, sll2(0x86DD, 3, 4, v6)).bytes());
        seeds.add(new Classic(ByteOrder.BIG_ENDIAN, false, LinkTypes.NULL, 0)
                .record(1, 2, loopback(2, ByteOrder.LITTLE_ENDIAN, v4))
                .record(3, 4, loopback(30, ByteOrder.BIG_ENDIAN, v6)).bytes());
        seeds.add(new Pcapng(ByteOrder.LITTLE_ENDIAN)
                .idb(LinkTypes.ETHERNET, 262144, 9, "eth0", null).idb(LinkTypes.LINUX_SLL, 64, null, "any", 10L)
                .epb(0, 1L << 40, ethernet(0x0800, v4), 14 + v4.length, 1, "ACCEPT mark=0x7")
                .epb(1, 12345, sll(4, 0x86DD, v6), 16 + v6.length, 2)
                .other(PcapTestFiles.PCAPNG_ISB, 16)
                .spb(14 + v4.length, ethernet(0x0800, v4))
                .section(ByteOrder.BIG_ENDIAN)
                .idb(LinkTypes.RAW, 0, 0x80 | 20, null, null)
                .pb(0, 99, v6, "old")
                .epb(0, 100, v4, v4.length, null, "DROP (default: TIMEOUT)", "second")
                .bytes());
        for (String real : List.of("lo-udp.pcap", "any-udp-nano.pcap", "lo-any.pcapng", "veth-arp.pcap")) {
            try (InputStream in = PcapMutationPropertiesTest.class.getResourceAsStream(real)) {
                seeds.add(in.readAllBytes());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return seeds;
    }
}
