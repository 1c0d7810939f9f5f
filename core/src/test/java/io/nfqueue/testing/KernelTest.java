package io.nfqueue.testing;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ExtendWith;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a test class that binds real queues in real network namespaces. As root it runs;
 * elsewhere it is skipped with the reason, unless {@code -Dnfqueue.requireKernelTests=true} or
 * the environment variable {@code CI=true} is set, which turns that skip into a failure.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Tag("kernel")
@ExtendWith(KernelTestCondition.class)
public @interface KernelTest {
}
