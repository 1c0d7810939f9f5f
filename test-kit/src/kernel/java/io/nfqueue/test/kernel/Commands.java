package io.nfqueue.test.kernel;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs a command on the host (outside any test namespace: {@link NetNamespace#exec} runs one
 * inside), waits at most 30 seconds for it, and fails loudly with its output.
 *
 * <pre>{@code
 * String links = Commands.run("ip", "-o", "link", "show");
 * Commands.Result r = Commands.tryRun("iptables-save");   // whatever the exit code
 * }</pre>
 */
public final class Commands {
    private static final long TIMEOUT_SECONDS = 30;

    private Commands() {
    }

    /**
     * Runs the command and returns its output (standard output and error together).
     *
     * @throws IllegalStateException with the command and its output if it exits with a status
     *     other than 0, cannot be started, or takes longer than 30 s (it is then killed)
     */
    public static String run(String... command) {
        Result r = tryRun(command);
        if (r.exitCode() != 0) {
            throw new IllegalStateException("command failed (exit " + r.exitCode() + "): " + String.join(" ", command)
                    + "\n" + r.output());
        }
        return r.output();
    }

    /**
     * Runs the command and returns its exit status and output, whatever they are.
     *
     * @throws IllegalStateException if it cannot be started or takes longer than 30 s
     */
    public static Result tryRun(String... command) {
        return tryRunWithInput(List.of(command), null);
    }

    /** Like {@link #tryRun}, writing {@code input} (UTF-8, may be null) to the command's standard input. */
    static Result tryRunWithInput(List<String> command, String input) {
        Path output = null;
        try {
            // Output goes to a file, not a pipe: a command that writes more than a pipe holds
            // (iptables-save of a large ruleset) would otherwise block until the timeout.
            output = Files.createTempFile("nfqt-command-", ".out");
            Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output.toFile()).start();
            try (OutputStream in = p.getOutputStream()) {
                if (input != null) {
                    in.write(input.getBytes(StandardCharsets.UTF_8));
                }
            }
            if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("command timed out after " + TIMEOUT_SECONDS + " s: "
                        + String.join(" ", command));
            }
            return new Result(p.exitValue(), new String(Files.readAllBytes(output), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new IllegalStateException("cannot run " + String.join(" ", command) + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running " + String.join(" ", command), e);
        } finally {
            if (output != null) {
                try {
                    Files.deleteIfExists(output);
                } catch (IOException ignored) {
                    // a temporary file left behind costs nothing
                }
            }
        }
    }

    /**
     * What a command did.
     *
     * @param exitCode its exit status
     * @param output its standard output and standard error, interleaved as written
     */
    public record Result(int exitCode, String output) {
    }
}
