package io.nfqueue.internal;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Java table of shared numbers against the library's: the build-time half of the check the
 * loader makes each time it loads the library. Runs wherever the shim builds (Linux).
 */
class ShimAbiTest {
    @Test
    void everyNameAndValueAgreesWithTheLibrary() {
        Natives.ensureLoaded(); // refuses a library whose table differs, so this alone would fail
        String[] names = Natives.constantNames();
        assertEquals(List.of(), ShimAbi.mismatches(names, Natives::constant));
        assertEquals(ShimAbi.values().size(), names.length, "the library lists a name twice");
        for (Map.Entry<String, Integer> e : ShimAbi.values().entrySet()) {
            assertEquals((int) e.getValue(), Natives.constant(e.getKey()), e.getKey());
        }
    }

    @Test
    void theConstantsObjectReadsTheTableWithoutLoadingAnything() {
        NativeConstants k = NativeConstants.get();
        assertEquals(ShimAbi.value("RECORD_SIZE"), k.recordSize);
        assertEquals(ShimAbi.value("NF_ACCEPT"), k.nfAccept);
        assertEquals("EPERM", k.errnoName(k.eperm));
    }

    @Test
    void aDifferentValueAMissingNameAndAnExtraNameAreEachReported() {
        Map<String, Integer> ours = ShimAbi.values();
        String[] names = ours.keySet().stream().filter(n -> !n.equals("NF_STOP")).toArray(String[]::new);
        String[] withExtra = new String[names.length + 1];
        System.arraycopy(names, 0, withExtra, 0, names.length);
        withExtra[names.length] = "RECORD_new_field";
        List<String> problems = ShimAbi.mismatches(withExtra,
                n -> n.equals("RECORD_mark") ? 99 : ours.getOrDefault(n, 0));
        assertEquals(List.of("RECORD_mark is 99 in the library but 20 in ShimAbi",
                "RECORD_new_field is in the library but not in ShimAbi",
                "NF_STOP is in ShimAbi but not in the library"), problems);
    }

    @Test
    void anUnknownNameThrowsAsTheLibraryDoes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ShimAbi.value("RECORD_nope"));
        assertTrue(e.getMessage().contains("RECORD_nope"), e.getMessage());
    }
}
