package io.nfqueue.test;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import static io.nfqueue.test.VerdictExpectation.accepted;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * The proof that the kit needs no native code: this module's unit tests run with nfqueue-native
 * off the classpath (see the pom), and here nothing may even have tried to load it.
 */
@EnabledIfSystemProperty(named = "nfqueue.test.withoutNative", matches = "true")
class WithoutNativeLibraryTest {
    @Test
    void theSharedLibraryIsNotOnTheClasspath() {
        assertNull(getClass().getClassLoader().getResource("META-INF/native/linux-x86_64/libnfqueue_jni.so"));
        assertNull(getClass().getClassLoader().getResource("META-INF/native/linux-aarch64/libnfqueue_jni.so"));
    }

    @Test
    void aPipelineRunsAndGetsItsVerdicts() {
        TestQueue queue = TestQueue.create();
        queue.offer(Packets.udp().to("192.0.2.2", 53).build());
        queue.receive(packets -> packets.doOnNext(p -> p.accept())).take(1).blockLast();
        queue.expectVerdicts(accepted());
    }

    /** The loader names the class it registers natives on before it loads anything: unset, nothing tried. */
    @AfterAll
    static void nothingTriedToLoadTheLibrary() {
        assertNull(System.getProperty("nfqueue.jni.natives"), "something tried to load the JNI library");
    }
}
