package io.nfqueue.samples;

import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine;

import java.nio.file.Path;

/** The firewall's own options (a picocli mixin), the same for the live command and its replay. */
final class FirewallOptions {
    @Option(names = "--rules", required = true, paramLabel = "FILE", description = "the rules file")
    Path rules;
    @Option(names = "--default", paramLabel = "accept|drop", defaultValue = "accept",
            description = "verdict when no rule matches (default: ${DEFAULT-VALUE})")
    String defaultVerdict;

    /** The firewall these options describe; a bad --default or rules file is a bad command line. */
    Firewall firewall(CommandLine cl) {
        return firewall(cl, false);
    }

    /** As {@link #firewall(CommandLine)}, deciding each connection on its first packet when {@code perFlow}. */
    Firewall firewall(CommandLine cl, boolean perFlow) {
        boolean accept = switch (defaultVerdict) {
            case "accept" -> true;
            case "drop" -> false;
            default -> throw new ParameterException(cl, "--default must be accept or drop: " + defaultVerdict);
        };
        return new Firewall(FirewallRules.load(rules), accept, perFlow);
    }
}
