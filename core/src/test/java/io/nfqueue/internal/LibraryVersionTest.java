package io.nfqueue.internal;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Core and shim carry the build's version, and the loader refuses a shim of another one, naming both. */
class LibraryVersionTest {
    @Test
    void coreAndTheLibraryBuiltBesideItCarryTheProjectVersion() {
        assertFalse(LibraryVersion.CURRENT.contains("${"), "the resource was filtered: " + LibraryVersion.CURRENT);
        assertTrue(LibraryVersion.CURRENT.matches("\\d+\\.\\d+\\.\\d+.*"), LibraryVersion.CURRENT);
        Natives.ensureLoaded(); // would have thrown on a mismatch
        assertEquals(LibraryVersion.CURRENT, Natives.version());
        assertNull(Natives.versionProblem(Natives.version(), LibraryVersion.CURRENT, false));
    }

    @Test
    void aMismatchNamesBothVersionsAndTheCure() {
        String problem = Natives.versionProblem("0.1.0", "0.2.0", true);
        assertTrue(problem.contains("libnfqueue_jni.so is version 0.1.0 but nfqueue-core is version 0.2.0"), problem);
        assertTrue(problem.contains("nfqueue-bom"), problem);
        assertTrue(problem.contains("java.library.path"), problem);
        assertFalse(Natives.versionProblem("0.1.0", "0.2.0", false).contains("java.library.path"));
    }
}
