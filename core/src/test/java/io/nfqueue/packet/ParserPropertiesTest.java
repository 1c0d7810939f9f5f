package io.nfqueue.packet;

import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.statistics.Statistics;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Whatever the bytes, parsing and reading end in a result or a {@link MalformedPacketException}
 * (documented option and refusal exceptions aside, see {@link Exercise}), never an index error
 * or another exception, and never a hang. Try counts are kept moderate so the run stays short.
 */
class ParserPropertiesTest {
    @Provide
    Arbitrary<byte[]> noise() {
        return PacketArbitraries.noise();
    }

    @Provide
    Arbitrary<byte[]> valid() {
        return PacketArbitraries.validPackets();
    }

    @Provide
    Arbitrary<byte[]> chains() {
        return PacketArbitraries.extensionChainSoup();
    }

    @Property(tries = 3000, seed = PropertySeeds.SEED)
    void randomBytesParseOrAreMalformed(@ForAll("noise") byte[] bytes) {
        Statistics.collect(Exercise.everything(bytes));
    }

    @Property(tries = 2000, seed = PropertySeeds.SEED)
    void extensionChainsThatLoopOrOverrunAreMalformed(@ForAll("chains") byte[] bytes) {
        Statistics.collect(Exercise.everything(bytes));
    }

    /** Truncations, flipped bytes and lying length fields of valid packets. */
    @Property(tries = 3000, seed = PropertySeeds.SEED)
    void mutatedPacketsParseOrAreMalformed(@ForAll("valid") byte[] packet, @ForAll long seed,
                                           @ForAll @IntRange(min = 1, max = 4) int mutations) {
        Random r = new Random(seed);
        byte[] p = packet;
        for (int i = 0; i < mutations; i++) {
            p = mutate(p, r);
        }
        Statistics.collect(Exercise.everything(p));
    }

    private static byte[] mutate(byte[] p, Random r) {
        byte[] m = p.clone();
        if (m.length < 6) {
            return Arrays.copyOf(m, m.length + r.nextInt(40));                  // nearly nothing: grow it
        }
        switch (r.nextInt(6)) {
            case 0:
                return Arrays.copyOf(m, r.nextInt(m.length + 1));                 // truncated
            case 1:
                m[r.nextInt(m.length)] ^= (byte) (1 << r.nextInt(8));             // a flipped bit
                return m;
            case 2:
                TestPackets.put16(m, m[0] >> 4 == 4 ? 2 : 4, r.nextInt(65536));   // IP length lies
                return m;
            case 3:
                m[0] = (byte) ((m[0] & 0xF0) | r.nextInt(16));                   // any IHL
                return m;
            case 4: {
                int at = r.nextInt(Math.max(1, m.length - 1));                  // any 16-bit field
                TestPackets.put16(m, Math.min(at, m.length - 2), r.nextInt(65536));
                return m;
            }
            default:
                return Arrays.copyOf(m, m.length + r.nextInt(20));               // padding
        }
    }

    @Property(tries = 1000, seed = PropertySeeds.SEED)
    void validPacketsParseWithValidChecksums(@ForAll("valid") byte[] packet) {
        assertEquals(Exercise.Outcome.PARSED, Exercise.everything(packet));
        PacketParser p = PacketParser.of(packet);
        assertEquals(ChecksumStatus.VALID, p.transportChecksumStatus(), p.toString());
        if (p.isIpv4()) {
            assertEquals(ChecksumStatus.VALID, p.ipChecksumStatus());
        }
        assertEquals(packet.length, p.end());
    }
}
