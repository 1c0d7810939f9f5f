package io.nfqueue;

import io.nfqueue.internal.Natives;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Under {@code -Pasan} (which preloads libasan into the test JVM): proves the run really used a
 * sanitized shim, so a green ASan run cannot be a plain run in disguise. Skipped otherwise.
 */
class SanitizedLibraryTest {
    @Test
    void theLoadedShimIsInstrumentedAndTheRuntimeIsMapped() throws Exception {
        String preload = System.getenv().getOrDefault("LD_PRELOAD", "");
        assumeTrue(preload.contains("libasan"), "not an ASan run (mvn -Pasan)");
        Natives.ensureLoaded(); // the way the library loads it
        List<String> maps = Files.readAllLines(Path.of("/proc/self/maps"));
        assertTrue(maps.stream().anyMatch(l -> l.contains("libasan")), "libasan is not mapped");
        String shim = maps.stream().filter(l -> l.contains("libnfqueue_jni")).findFirst()
                .map(l -> l.substring(l.indexOf('/')))
                .orElseThrow(() -> new AssertionError("the shim is not loaded"));
        String image = new String(Files.readAllBytes(Path.of(shim.trim())), StandardCharsets.ISO_8859_1);
        assertTrue(image.contains("__asan_report"), shim + " is not built with -fsanitize=address");
        assertTrue(image.contains("__ubsan_handle"), shim + " is not built with -fsanitize=undefined");
        System.out.println("ASan run: shim " + shim.trim() + " is instrumented; runtime " + preload);
    }
}
