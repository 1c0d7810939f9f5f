package io.nfqueue.testing;

import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs kernel tests where they can run. Elsewhere each test is reported as skipped with the
 * reason; where kernel tests are required (CI) the class fails instead, so a skip can't hide them.
 */
public final class KernelTestCondition implements ExecutionCondition {

    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        List<String> missing = missingPrerequisites();
        if (missing.isEmpty()) {
            return ConditionEvaluationResult.enabled("kernel test prerequisites present");
        }
        String reason = "kernel tests of " + context.getDisplayName() + " need " + String.join(", ", missing);
        if (required()) {
            throw new IllegalStateException(reason + " (kernel tests are required here: "
                    + "nfqueue.requireKernelTests=true or CI=true; a skip would hide them)");
        }
        return ConditionEvaluationResult.disabled(reason + "; skipped (run as root on Linux to run them)");
    }

    static boolean required() {
        return Boolean.getBoolean("nfqueue.requireKernelTests") || "true".equalsIgnoreCase(System.getenv("CI"));
    }

    static List<String> missingPrerequisites() {
        List<String> missing = new ArrayList<>();
        if (!System.getProperty("os.name", "").toLowerCase().contains("linux")) {
            missing.add("Linux");
            return missing;
        }
        if (!isRoot()) {
            missing.add("root (uid 0, for CAP_NET_ADMIN and network namespaces)");
        }
        for (String tool : new String[] {"ip", "iptables", "ip6tables"}) {
            if (!onPath(tool)) {
                missing.add("the '" + tool + "' command (apt-get install iproute2 iptables)");
            }
        }
        return missing;
    }

    private static boolean isRoot() {
        try {
            for (String line : Files.readAllLines(Paths.get("/proc/self/status"))) {
                if (line.startsWith("Uid:")) {
                    return line.split("\\s+")[2].equals("0");
                }
            }
        } catch (IOException e) {
            return false;
        }
        return false;
    }

    private static boolean onPath(String tool) {
        for (String dir : (System.getenv("PATH") + ":/usr/sbin:/sbin").split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, tool))) {
                return true;
            }
        }
        return false;
    }
}
