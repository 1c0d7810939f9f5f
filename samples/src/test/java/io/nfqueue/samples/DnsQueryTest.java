package io.nfqueue.samples;

import io.nfqueue.test.Packets;
import io.nfqueue.test.TestQueue;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.Set;

import static io.nfqueue.test.VerdictExpectation.accepted;
import static io.nfqueue.test.VerdictExpectation.dropped;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** DNS question names, blocklists, and the dns-block pipeline on the test kit's queue (no kernel, no root). */
class DnsQueryTest {
    @Test
    void readsTheQuestionName() {
        assertEquals("www.example.com", DnsQuery.questionName(DnsQuery.encode(7, "WWW.Example.COM")));
        assertEquals("", DnsQuery.questionName(DnsQuery.encode(7, "")));
        byte[] q = DnsQuery.encode(1, "a.b");
        byte[] framed = new byte[q.length + 10];
        System.arraycopy(q, 0, framed, 5, q.length);
        assertEquals("a.b", DnsQuery.questionName(ByteBuffer.wrap(framed), 5, q.length));
    }

    @Test
    void followsBackwardPointersAndRefusesLoops() {
        // header, then "x" + pointer to offset 12 where ... a pointer to itself
        byte[] self = DnsQuery.encode(1, "");
        self[12] = (byte) 0xC0;
        self[13] = 12;
        assertNull(DnsQuery.questionName(self), "a pointer to itself");
        byte[] fwd = DnsQuery.encode(1, "abc");
        fwd[12] = (byte) 0xC0;
        fwd[13] = 20;
        assertNull(DnsQuery.questionName(fwd), "a forward pointer");
        // Two names: "com" at 12, then the question "ex" + pointer to 12: a backward pointer is fine.
        byte[] two = {0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 3, 'c', 'o', 'm', 0, 2, 'e', 'x', (byte) 0xC0, 12, 0, 1, 0, 1};
        assertEquals("com", DnsQuery.questionName(two), "the first name is the question");
    }

    @Test
    void malformedInputIsNotAMatchNeverAnException() {
        byte[] ok = DnsQuery.encode(1, "blocked.test");
        assertNull(DnsQuery.questionName(new byte[0]));
        assertNull(DnsQuery.questionName(Arrays.copyOf(ok, 12)));
        for (int cut = 0; cut < ok.length - 4; cut++) {
            assertNull(DnsQuery.questionName(Arrays.copyOf(ok, cut)), "cut at " + cut);
        }
        byte[] response = ok.clone();
        response[2] |= (byte) 0x80;
        assertNull(DnsQuery.questionName(response), "a response");
        byte[] noQuestion = ok.clone();
        noQuestion[5] = 0;
        assertNull(DnsQuery.questionName(noQuestion));
        byte[] longLabel = ok.clone();
        longLabel[12] = 64;
        assertNull(DnsQuery.questionName(longLabel), "label type 0x40");
        String tooLong = String.join(".", Collections.nCopies(60, "abcd"));
        assertNull(DnsQuery.questionName(DnsQuery.encode(1, tooLong)), "over 255 bytes");
        assertNull(DnsQuery.questionName(ByteBuffer.wrap(ok), 4, ok.length), "past the limit");
        Random r = new Random(6);
        for (int i = 0; i < 20000; i++) {
            byte[] junk = i % 2 == 0 ? new byte[r.nextInt(80)] : ok.clone();
            if (i % 2 == 0) {
                r.nextBytes(junk);
            } else {
                junk[r.nextInt(junk.length)] = (byte) r.nextInt(256);
            }
            DnsQuery.questionName(junk);   // must not throw
        }
    }

    @Test
    void blocksNamesAndTheirSubdomainsOnly() {
        DnsBlocker b = new DnsBlocker(DnsBlocker.parseBlocklist(List.of("# ads", "Ads.Example.", "tracker.test  # x",
                "")).names());
        assertTrue(b.isBlocked("ads.example"));
        assertTrue(b.isBlocked("x.y.ads.example"));
        assertTrue(b.isBlocked("tracker.test"));
        assertFalse(b.isBlocked("badads.example"));
        assertFalse(b.isBlocked("example"));
        assertFalse(b.isBlocked(null));
        assertEquals(Set.of("ads.example", "tracker.test"), DnsBlocker.parseBlocklist(List.of("ads.example",
                "tracker.test.")).names());
    }

    @Test
    void hostsFilesAndPlainListsAreRead() {
        DnsBlocker.Blocklist hosts = DnsBlocker.parseBlocklist(List.of(
                "# StevenBlack-style header",
                "127.0.0.1 localhost",
                "127.0.0.1 localhost.localdomain",
                "255.255.255.255 broadcasthost",
                "::1 localhost ip6-localhost ip6-loopback",
                "0.0.0.0 0.0.0.0",
                "0.0.0.0 example.com",
                "127.0.0.1 tracker.net   # a comment",
                "0.0.0.0\tads.one ads.two",
                ":: v6.example",
                "plain.example",
                "  Mixed.Case.Example.  ",
                "bücher.example"));
        assertEquals(Set.of("example.com", "tracker.net", "ads.one", "ads.two", "v6.example", "plain.example",
                "mixed.case.example", "xn--bcher-kva.example"), hosts.names());
        assertEquals(0, hosts.rejectedLines(), hosts.rejectedText());
    }

    @Test
    void whatIsNotANameIsCountedAndTheFirstNamed() {
        DnsBlocker.Blocklist list = DnsBlocker.parseBlocklist(List.of("good.example", "*.wild.test", "http://x.com",
                "a b.com", "example.com/path", "10.0.0.1", "0.0.0.0", "||adblock.example^", "under_score.example"));
        assertEquals(Set.of("good.example", "under_score.example"), list.names());
        assertEquals(7, list.rejectedLines());
        assertEquals("line 2: '*.wild.test'", list.firstRejected());
        assertEquals("; skipped 7 lines that are not domain names (first: line 2: '*.wild.test')", list.rejectedText());
    }

    @Test
    void aListWithoutNamesIsRefused(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path empty = Files.writeString(dir.resolve("empty"), "# nothing\n\n");
        UsageException e = Assertions.assertThrows(UsageException.class, () -> DnsBlocker.load(empty));
        assertTrue(e.getMessage().contains("holds no domain name"), e.getMessage());
        Path bad = Files.writeString(dir.resolve("bad"), "*.x.test\nhttp://y.test\n");
        e = Assertions.assertThrows(UsageException.class, () -> DnsBlocker.load(bad));
        assertTrue(e.getMessage().contains("skipped 2 lines") && e.getMessage().contains("line 1: '*.x.test'"), e.getMessage());
        e = Assertions.assertThrows(UsageException.class,
                () -> DnsBlocker.load(Path.of("/dev/null")));
        assertTrue(e.getMessage().contains("holds no domain name"), e.getMessage());
        Path binary = Files.write(dir.resolve("bin"), new byte[] {0x7f, 'E', 'L', 'F', 0, (byte) 0xff, (byte) 0xfe});
        e = Assertions.assertThrows(UsageException.class, () -> DnsBlocker.load(binary));
        assertTrue(e.getMessage().contains("is not a text file"), e.getMessage());
        e = Assertions.assertThrows(UsageException.class, () -> DnsBlocker.load(dir));
        assertTrue(e.getMessage().contains("is a directory"), e.getMessage());
        assertEquals("1 name", DnsBlocker.load(Files.writeString(dir.resolve("one"), "a.test\n"))
                .report().replaceAll(".*blocklist: (.*)\\)", "$1"));
    }

    /**
     * Real DNS queries over UDP, IPv4 and IPv6, through the blocker as the dns-block command runs
     * it (its queue options, the samples' poll loop): blocklisted names and their subdomains are
     * dropped whatever their case; everything else passes, including what only looks like DNS.
     */
    @Test
    void theBlockerDropsQueriesForBlockedNamesAndPassesTheRest() {
        DnsBlocker blocker = new DnsBlocker(Set.of("ads.example", "tracker.test"));
        byte[] response = DnsQuery.encode(9, "ads.example");
        response[2] |= (byte) 0x80;
        TestQueue queue = TestQueue.create(13);
        queue.offer(
                Packets.udp().from("10.0.0.2", 40000).to("10.0.0.53", 53).payload(DnsQuery.encode(1, "ads.example")).build(),
                Packets.udp().from("10.0.0.2", 40001).to("10.0.0.53", 53).payload(DnsQuery.encode(2, "WWW.Ads.Example"))
                        .build(),
                Packets.udp().from("10.0.0.2", 40002).to("10.0.0.53", 53).payload(DnsQuery.encode(3, "notads.example"))
                        .build(),
                Packets.udp().from("2001:db8::2", 40003).to("2001:db8::53", 53).payload(DnsQuery.encode(4, "tracker.test"))
                        .build(),
                Packets.udp().from("10.0.0.2", 40004).to("224.0.0.251", 5353).payload(DnsQuery.encode(5, "ads.example"))
                        .build(),
                Packets.tcp().from("10.0.0.2", 40005).to("10.0.0.53", 53).payload(DnsQuery.encode(6, "ads.example"))
                        .build(),
                Packets.udp().from("10.0.0.53", 53).to("10.0.0.2", 53).payload(response).build(),
                Packets.udp().from("10.0.0.2", 40007).to("10.0.0.53", 53).payload("not dns").build());

        SampleOnTestQueue.run(queue, blocker.sample());

        queue.expectVerdicts(dropped(), dropped(), accepted(), dropped(), accepted(), accepted(), accepted(), accepted());
        assertEquals("queries 4, blocked 3, other packets 4 (blocklist: 2 names)", blocker.report());
    }
}
