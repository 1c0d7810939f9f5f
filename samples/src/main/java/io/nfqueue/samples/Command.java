package io.nfqueue.samples;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs a system command (ip, iptables) to completion within 30 s and returns its output. */
final class Command {
    private static final long TIMEOUT_SECONDS = 30;

    private Command() {
    }

    /** Runs the command; throws with its output when it fails, cannot start or takes too long. */
    static String run(String... command) {
        String line = String.join(" ", command);
        try {
            Process p = new ProcessBuilder(List.of(command)).redirectErrorStream(true).start();
            p.getOutputStream().close();
            if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("'" + line + "' took longer than " + TIMEOUT_SECONDS + " s");
            }
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            if (p.exitValue() != 0) {
                throw new IllegalStateException("'" + line + "' failed (exit " + p.exitValue() + ")"
                        + (out.isEmpty() ? "" : ": " + out));
            }
            return out;
        } catch (IOException e) {
            throw new IllegalStateException("cannot run '" + line + "': " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running '" + line + "'", e);
        }
    }
}
