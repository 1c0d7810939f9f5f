package io.nfqueue;

import java.util.function.Consumer;

/**
 * The packets a binding has read and not yet sent a verdict for, in id order, which is receive
 * order: the kernel numbers packets as it queues them and delivers them in that order.
 *
 * <p>Why a ring in id order: the oldest packet still waiting is what decides whether a run of
 * accepts may travel as one {@code NFQNL_MSG_VERDICT_BATCH} (which applies to every held id up to
 * its own), and it costs no allocation per packet, unlike a hash map.
 *
 * <p>Threads: {@link #append} and {@link #forEach} run under the queue's socket lock; the
 * flusher ({@link #oldestUnsent}, {@link #releaseSent}) runs under its send lock; {@link #compactOrGrow} needs both.
 * Entries behind {@code head} are cleared by the flusher; an iterator that meets a cleared entry
 * skips it.
 */
final class HeldPackets {
    private Packet[] ring = new Packet[64];
    private volatile long tail;
    private volatile long head;

    boolean isFull() {
        return tail - head == ring.length;
    }

    /** Adds the packet just read. Caller holds the socket lock and has made room. */
    void append(Packet p) {
        long t = tail;
        ring[(int) (t & (ring.length - 1))] = p;
        tail = t + 1;
    }

    /**
     * Makes room: drops the entries already sent (they sit behind an older waiting packet), and
     * doubles the ring only if what is left still fills half of it. The ring so stays within
     * twice the number of packets really waiting, which the kernel's max-length bounds, even if
     * one packet waits forever while millions pass. Caller holds both locks.
     */
    void compactOrGrow() {
        Packet[] old = ring;
        int mask = old.length - 1;
        int live = 0;
        for (long i = head; i < tail; i++) {
            Packet p = old[(int) (i & mask)];
            if (p != null && !p.sent()) {
                live++;
            }
        }
        int size = old.length;
        while (live * 2 > size) {
            size *= 2;
        }
        Packet[] next = new Packet[size];
        int n = 0;
        for (long i = head; i < tail; i++) {
            Packet p = old[(int) (i & mask)];
            if (p != null && !p.sent()) {
                next[n++] = p;
            }
        }
        ring = next;
        head = 0;
        tail = n;
    }

    /**
     * The oldest packet whose verdict is not sent nor in the send being built, or null. Does not
     * move anything: a send may still fail and put its packets back. Caller holds the send lock.
     */
    Packet oldestUnsent() {
        Packet[] r = ring;
        int mask = r.length - 1;
        for (long h = head, t = tail; h < t; h++) {
            Packet p = r[(int) (h & mask)];
            if (p != null && !p.sent()) {
                return p;
            }
        }
        return null;
    }

    /** Forgets the packets at the old end whose verdict went out. Caller holds the send lock. */
    void releaseSent() {
        Packet[] r = ring;
        int mask = r.length - 1;
        long h = head;
        long t = tail;
        while (h < t) {
            int slot = (int) (h & mask);
            Packet p = r[slot];
            if (p != null && !p.sent()) {
                break;
            }
            r[slot] = null;
            h++;
        }
        head = h;
    }

    /** The oldest packet still without a verdict, or null. Caller holds the socket lock. */
    Packet oldestUnresolved() {
        Packet[] r = ring;
        int mask = r.length - 1;
        for (long i = head, t = tail; i < t; i++) {
            Packet p = r[(int) (i & mask)];
            if (p != null && !p.isResolved()) {
                return p;
            }
        }
        return null;
    }

    /** Visits every packet not yet sent, oldest first. Caller holds the socket lock. */
    void forEach(Consumer<Packet> action) {
        Packet[] r = ring;
        int mask = r.length - 1;
        for (long i = head, t = tail; i < t; i++) {
            Packet p = r[(int) (i & mask)];
            if (p != null && !p.isResolved()) {
                action.accept(p);
            }
        }
    }
}
