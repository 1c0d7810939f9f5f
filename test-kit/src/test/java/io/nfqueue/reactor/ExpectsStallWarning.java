package io.nfqueue.reactor;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a test that stops reading at the in-flight limit on purpose, so the stall warning may
 * (or, with {@link #required()}, must) fire there; {@link StallWarningGuard} fails every other
 * test in which it fires.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.METHOD, ElementType.TYPE})
@interface ExpectsStallWarning {
    /** The test fails unless the warning fired. */
    boolean required() default false;
}
