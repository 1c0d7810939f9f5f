package io.nfqueue.testing;

import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaCodeUnit;
import com.tngtech.archunit.core.domain.JavaField;
import com.tngtech.archunit.core.domain.JavaModifier;
import com.tngtech.archunit.core.domain.JavaType;
import com.tngtech.archunit.core.domain.ThrowsDeclaration;
import com.tngtech.archunit.lang.ArchCondition;
import com.tngtech.archunit.lang.ConditionEvents;
import com.tngtech.archunit.lang.SimpleConditionEvent;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;

/**
 * The rule that the API of the exported packages shows no internal type: an accessible class
 * (public, or protected inside an accessible one) neither extends nor implements one, and none
 * of its public or protected constructors, methods and fields takes, returns, throws or holds one,
 * type arguments and bounds included. A package is internal when a segment of its name is
 * {@code internal}; the modules export those only to the project's own modules, so such a type in
 * a public signature is a method no user can call (javac's -Xlint:exports says the same for the
 * module build).
 */
public final class PublicApiRules {
    private PublicApiRules() {
    }

    /** True for io.nfqueue.internal, io.nfqueue.internal.fake, io.nfqueue.reactor.internal... */
    public static boolean isInternal(JavaClass c) {
        JavaClass base = c.getBaseComponentType();
        return ("." + base.getPackageName() + ".").contains(".internal.");
    }

    public static ArchCondition<JavaClass> exposeNoInternalType() {
        return new ArchCondition<>("expose no internal type in their public or protected API") {
            @Override
            public void check(JavaClass c, ConditionEvents events) {
                if (!accessible(c)) {
                    return;
                }
                List<String> problems = new ArrayList<>();
                c.getSuperclass().ifPresent(t -> report(c.getName() + " extends", List.of(t), problems));
                report(c.getName() + " implements", c.getInterfaces(), problems);
                report(c.getName() + " type parameters", c.getTypeParameters(), problems);
                for (JavaField f : c.getFields()) {
                    if (visible(f.getModifiers())) {
                        report(f.getFullName(), List.of(f.getType()), problems);
                    }
                }
                for (JavaCodeUnit u : c.getCodeUnits()) {
                    Set<JavaModifier> m = u.getModifiers();
                    if (!visible(m) || m.contains(JavaModifier.SYNTHETIC) || m.contains(JavaModifier.BRIDGE)) {
                        continue;
                    }
                    report(u.getFullName() + " parameters", u.getParameterTypes(), problems);
                    report(u.getFullName() + " returns", List.of(u.getReturnType()), problems);
                    report(u.getFullName() + " type parameters", u.getTypeParameters(), problems);
                    for (ThrowsDeclaration<?> t : u.getThrowsClause()) {
                        if (isInternal(t.getRawType())) {
                            problems.add(u.getFullName() + " throws " + t.getRawType().getName());
                        }
                    }
                }
                for (String p : problems) {
                    events.add(SimpleConditionEvent.violated(c, p));
                }
                if (problems.isEmpty()) {
                    events.add(SimpleConditionEvent.satisfied(c, c.getName() + " exposes no internal type"));
                }
            }
        };
    }

    private static void report(String where, Collection<? extends JavaType> types, List<String> problems) {
        for (JavaType t : types) {
            for (JavaClass raw : t.getAllInvolvedRawTypes()) {
                if (isInternal(raw)) {
                    problems.add(where + " " + raw.getName());
                }
            }
        }
    }

    /** Public, or a protected member class of an accessible class: what another module can see. */
    private static boolean accessible(JavaClass c) {
        Set<JavaModifier> m = c.getModifiers();
        if (c.isTopLevelClass()) {
            return m.contains(JavaModifier.PUBLIC);
        }
        return visible(m) && c.getEnclosingClass().map(PublicApiRules::accessible).orElse(false);
    }

    private static boolean visible(Set<JavaModifier> m) {
        return m.contains(JavaModifier.PUBLIC) || m.contains(JavaModifier.PROTECTED);
    }
}
