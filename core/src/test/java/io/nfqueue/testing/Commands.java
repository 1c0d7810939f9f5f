package io.nfqueue.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs system commands (ip, iptables) with a time bound, failing loudly with their output. */
public final class Commands {
    private static final long TIMEOUT_SECONDS = 30;

    private Commands() {
    }

    /** Runs the command; throws with its output if it fails or takes longer than 30 s. */
    public static String run(String... command) {
        Result r = tryRun(command);
        if (r.exitCode != 0) {
            throw new IllegalStateException("command failed (exit " + r.exitCode + "): " + String.join(" ", command)
                    + "\n" + r.output);
        }
        return r.output;
    }

    /** Runs the command and returns its exit code and output, whatever they are. */
    public static Result tryRun(String... command) {
        List<String> cmd = new ArrayList<>(Arrays.asList(command));
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            p.getOutputStream().close();
            if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("command timed out after " + TIMEOUT_SECONDS + " s: " + String.join(" ", cmd));
            }
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            return new Result(p.exitValue(), out);
        } catch (IOException e) {
            throw new IllegalStateException("cannot run " + String.join(" ", cmd) + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running " + String.join(" ", cmd), e);
        }
    }

    /** Exit code and combined output of a command. */
    public static final class Result {
        public final int exitCode;
        public final String output;

        Result(int exitCode, String output) {
            this.exitCode = exitCode;
            this.output = output;
        }
    }
}
