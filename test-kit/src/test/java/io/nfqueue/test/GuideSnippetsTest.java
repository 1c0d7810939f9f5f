package io.nfqueue.test;

import io.nfqueue.Packet;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static io.nfqueue.test.VerdictExpectation.accepted;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every Java snippet of the guide's "Testing your pipeline" is a region of a compiled test of this
 * module ({@code // snippet:NAME} ... {@code // end-snippet}), and the error it shows is the one
 * the kit prints: the guide cannot show code that does not compile or output that is not so.
 */
class GuideSnippetsTest {
    private static final Pattern BLOCK = Pattern.compile("<!-- (snippet|output):([\\w-]+) -->\\n```\\w*\\n(.*?)```",
            Pattern.DOTALL);

    private static Path root() {
        Path dir = Path.of(System.getProperty("user.dir")).toAbsolutePath();
        for (int i = 0; i < 3 && dir != null; i++, dir = dir.getParent()) {
            if (Files.exists(dir.resolve("docs/guide.md"))) {
                return dir;
            }
        }
        throw new IllegalStateException("docs/guide.md not found above " + System.getProperty("user.dir"));
    }

    /** The section, up to the next second-level heading. */
    private static String section() throws IOException {
        String guide = Files.readString(root().resolve("docs/guide.md"));
        int start = guide.indexOf("\n## Testing your pipeline\n");
        assertTrue(start >= 0, "the guide has the section");
        int end = guide.indexOf("\n## ", start + 1);
        return guide.substring(start, end < 0 ? guide.length() : end);
    }

    /** The region NAME of the sources under test-kit/src/test, without its common indentation. */
    private static String region(String name) throws IOException {
        List<String> found = new ArrayList<>();
        try (Stream<Path> files = Files.walk(root().resolve("test-kit/src/test/java"))) {
            for (Path f : (Iterable<Path>) files.filter(p -> p.toString().endsWith(".java"))::iterator) {
                String s = Files.readString(f);
                int a = s.indexOf("// snippet:" + name + "\n");
                if (a >= 0) {
                    a = s.indexOf('\n', a) + 1;
                    found.add(s.substring(a, s.indexOf("// end-snippet", a)).stripTrailing().stripIndent());
                }
            }
        }
        assertEquals(1, found.size(), "one region named " + name);
        return found.get(0);
    }

    @Test
    void everyJavaBlockIsACompiledRegion() throws IOException {
        String section = section();
        Matcher m = BLOCK.matcher(section);
        int snippets = 0;
        while (m.find()) {
            if (m.group(1).equals("snippet")) {
                assertEquals(region(m.group(2)), m.group(3).stripTrailing(), "snippet " + m.group(2));
                snippets++;
            }
        }
        assertTrue(snippets >= 5, "the section's snippets were found: " + snippets);
        int javaBlocks = section.split("```java\n", -1).length - 1;
        assertEquals(snippets, javaBlocks, "every ```java block of the section carries a snippet marker");
    }

    @Test
    void theReadmeExampleIsACompiledRegion() throws IOException {
        String readme = Files.readString(root().resolve("README.md"));
        int start = readme.indexOf("```java\nTestQueue queue = TestQueue.create();");
        assertTrue(start >= 0, "the README shows the kit");
        start = readme.indexOf('\n', start) + 1;
        assertEquals(region("readme"), readme.substring(start, readme.indexOf("```", start)).stripTrailing());
    }

    @Test
    void theFailureShownIsTheOneTheKitPrints() throws IOException {
        TestQueue queue = TestQueue.create();
        queue.offer(Packets.tcp().to("10.0.0.1", 23).syn().build());
        queue.receive(packets -> packets.doOnNext(Packet::drop)).take(1).blockLast();
        AssertionError e = assertThrows(AssertionError.class, () -> queue.expectVerdicts(accepted()));
        Matcher m = BLOCK.matcher(section());
        boolean shown = false;
        while (m.find()) {
            if (m.group(1).equals("output") && m.group(2).equals("wrong-expectation")) {
                assertEquals(e.getMessage().stripTrailing(), m.group(3).stripTrailing());
                shown = true;
            }
        }
        assertTrue(shown, "the guide shows the failure");
        assertFalse(e.getMessage().isBlank());
    }
}
