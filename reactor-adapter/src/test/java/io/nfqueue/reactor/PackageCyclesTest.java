package io.nfqueue.reactor;

import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.library.dependencies.SliceAssignment;
import com.tngtech.archunit.library.dependencies.SliceIdentifier;
import io.nfqueue.testing.PublicApiRules;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

/**
 * No package cycles in the Reactor adapter: the public package builds on the internal one, never
 * the other way round (the internal package sees the options as a {@code SubscriptionConfig}).
 */
class PackageCyclesTest {
    private static final JavaClasses CLASSES = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("io.nfqueue.reactor");

    /** Each package its own slice. */
    static final SliceAssignment BY_PACKAGE = new SliceAssignment() {
        @Override
        public SliceIdentifier getIdentifierOf(JavaClass c) {
            return SliceIdentifier.of(c.getPackageName());
        }

        @Override
        public String getDescription() {
            return "each package";
        }
    };

    @Test
    void packagesAreFreeOfCycles() {
        slices().assignedFrom(BY_PACKAGE).should().beFreeOfCycles().check(CLASSES);
    }

    @Test
    void theInternalPackageDependsOnNothingPublicOfThisModule() {
        noClasses().that().resideInAPackage("io.nfqueue.reactor.internal..")
                .should().dependOnClassesThat().resideInAPackage("io.nfqueue.reactor")
                .check(CLASSES);
    }

    /** No internal type (of this module or of core) in a public or protected signature of the exported package. */
    @Test
    void thePublicApiExposesNoInternalType() {
        classes().that().resideInAPackage("io.nfqueue.reactor")
                .should(PublicApiRules.exposeNoInternalType())
                .check(CLASSES);
    }
}
