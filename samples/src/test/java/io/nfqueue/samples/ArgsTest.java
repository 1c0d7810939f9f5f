package io.nfqueue.samples;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ArgsTest {
    private static final Set<String> KNOWN = Set.of("queue", "count", "duration");

    @Test
    void readsBothOptionForms() {
        Args a = Args.parse("print", List.of("--queue", "7", "--count=3"), KNOWN);
        assertEquals(7, a.integer("queue", 0, 65535));
        assertEquals(3, a.integer("count", 1, 10));
        assertFalse(a.has("duration"));
    }

    @Test
    void rejectsWhatItDoesNotKnow() {
        assertThrows(UsageException.class, () -> Args.parse("print", List.of("--colour", "red"), KNOWN));
        assertThrows(UsageException.class, () -> Args.parse("print", List.of("7"), KNOWN));
        assertThrows(UsageException.class, () -> Args.parse("print", List.of("--queue"), KNOWN));
        assertThrows(UsageException.class, () -> Args.parse("print", List.of("--queue=1", "--queue=2"), KNOWN));
        Args a = Args.parse("print", List.of("--queue", "70000", "--count", "x"), KNOWN);
        assertThrows(UsageException.class, () -> a.integer("queue", 0, 65535));
        assertThrows(UsageException.class, () -> a.integer("count", 1, 10));
        assertThrows(UsageException.class, () -> a.string("duration"));
    }

    @Test
    void parsesDurations() {
        assertEquals(Duration.ofSeconds(10), Args.parseDuration("10s"));
        assertEquals(Duration.ofMillis(500), Args.parseDuration("500ms"));
        assertEquals(Duration.ofMinutes(2), Args.parseDuration("2m"));
        assertEquals(Duration.ofSeconds(7), Args.parseDuration("7"));
        assertNull(Args.parseDuration("2x"));
        Args a = Args.parse("demo", List.of("--duration", "20m"), KNOWN);
        UsageException e = assertThrows(UsageException.class,
                () -> a.duration("duration", Duration.ZERO, Duration.ofSeconds(1), Duration.ofMinutes(10)));
        assertTrue(e.getMessage().contains("between"), e.getMessage());
    }
}
