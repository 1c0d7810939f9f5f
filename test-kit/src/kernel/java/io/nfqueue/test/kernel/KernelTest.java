package io.nfqueue.test.kernel;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ExtendWith;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a test class (or method) that runs against the real kernel: real queues, real rules, real
 * sockets, each test in a network namespace of its own that is removed afterwards.
 *
 * <pre>{@code
 * @KernelTest
 * class FirewallKernelTest {
 *     @Test
 *     void dropsTelnet(NetNamespace ns) throws Exception {
 *         ns.iptables("-A OUTPUT -p tcp --dport 23 -j NFQUEUE --queue-num 1");
 *         ...
 *     }
 * }
 * }</pre>
 *
 * <h2>A namespace per test</h2>
 *
 * <p>A parameter of type {@link NetNamespace} gets a fresh namespace (loopback up, nothing else),
 * deleted with everything in it after the test, whether it passed or failed:
 * <ul>
 *   <li>in a test method, {@code @BeforeEach} or {@code @AfterEach} method: one per test, the
 *       same in all three (the first {@code NetNamespace} parameter of each is the same namespace,
 *       the second another one, and so on, for a test that links two namespaces);
 *       it is deleted after the {@code @AfterEach} methods ran;</li>
 *   <li>in a {@code @BeforeAll} or {@code @AfterAll} method: one for the whole class, deleted after
 *       the {@code @AfterAll} methods ran.</li>
 * </ul>
 * A field works as well: {@code @RegisterExtension final NetNamespace ns = NetNamespace.create();}
 * gives each test its own (JUnit makes a new instance per test) and deletes it after the test.
 * Namespaces made with {@link NetNamespace#create()} elsewhere are the caller's to close; a JVM
 * shutdown hook deletes those still open, and a later run deletes those a killed JVM left behind.
 *
 * <h2>Where it runs: skip or fail</h2>
 *
 * <p>Kernel tests need Linux, root (uid 0 with {@code CAP_NET_ADMIN} and {@code CAP_SYS_ADMIN}:
 * a container must be given them) and the {@code ip} command of iproute2; rules need
 * {@code iptables}/{@code ip6tables} (package iptables) or {@code nft} (package nftables), checked
 * when a test first adds one. Where something is missing, the test is <b>skipped</b>, and the
 * report says what is missing ("kernel tests of FirewallKernelTest need root ...; skipped").
 *
 * <p>Where kernel tests must not be skipped (a CI job that runs as root to run them), set
 * {@code nfqueue.requireKernelTests=true}: as a system property
 * ({@code mvn verify -Dnfqueue.requireKernelTests=true}; with Surefire pass it on through
 * {@code systemPropertyVariables}) or as a JUnit configuration parameter
 * ({@code junit-platform.properties}). Each skip then becomes a <b>failure</b> that says what is
 * missing, so a job that lost its root cannot pass without running them. The environment
 * variable {@code CI} is deliberately not read: many CI services set it and run builds without root.
 *
 * <p>The tests are tagged {@code kernel}, so a build can leave them out
 * ({@code -DexcludedGroups=kernel}) or run only them ({@code -Dgroups=kernel}).
 */
@Target({ElementType.TYPE, ElementType.METHOD})
@Retention(RetentionPolicy.RUNTIME)
@Documented
@Inherited
@Tag("kernel")
@ExtendWith(KernelTestExtension.class)
public @interface KernelTest {
}
