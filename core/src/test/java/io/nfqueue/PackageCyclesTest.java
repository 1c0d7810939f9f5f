package io.nfqueue;

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
 * No package cycles in core: the public packages build on {@code io.nfqueue.internal}, which
 * depends on none of them (it throws its own exceptions; the public API turns them into the
 * public ones where a program first touches the library).
 */
class PackageCyclesTest {
    private static final JavaClasses CLASSES = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("io.nfqueue");

    /** Each package its own slice. */
    private static final SliceAssignment BY_PACKAGE = new SliceAssignment() {
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
    void theInternalPackageDependsOnNoPublicOne() {
        noClasses().that().resideInAPackage("io.nfqueue.internal..")
                .and().resideOutsideOfPackage("io.nfqueue.internal.access")
                .should().dependOnClassesThat().resideInAnyPackage("io.nfqueue", "io.nfqueue.packet")
                .check(CLASSES);
    }

    /**
     * The one internal package that sees the public one: it reaches the package-private
     * {@code BoundQueue.open(QueueOptions, Transport)} for the test kit. Nothing outside it may.
     */
    @Test
    void onlyTheAccessPackageReachesIntoThePublicOne() {
        noClasses().that().resideInAnyPackage("io.nfqueue", "io.nfqueue.packet")
                .should().dependOnClassesThat().resideInAPackage("io.nfqueue.internal.access")
                .check(CLASSES);
    }

    /** No internal type in a public or protected signature of the exported packages. */
    @Test
    void thePublicApiExposesNoInternalType() {
        classes().that().resideInAnyPackage("io.nfqueue", "io.nfqueue.packet")
                .should(PublicApiRules.exposeNoInternalType())
                .check(CLASSES);
    }
}
