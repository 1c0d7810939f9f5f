/**
 * For the tests of programs built on nfqueue-java: build packets, run a pipeline over a queue
 * without the kernel, assert the verdicts each packet got, replay captures, and (with root) run
 * against real queues in a network namespace of the test's own ({@code io.nfqueue.test.kernel}).
 */
package io.nfqueue.test;
