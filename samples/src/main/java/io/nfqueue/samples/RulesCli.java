package io.nfqueue.samples;

import io.nfqueue.FlowOffload;
import io.nfqueue.FlowRules;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * {@code rules --flow-offload}: prints {@link FlowRules}' script for a queue (each rule after a
 * comment saying why it is there), or with {@code --install}/{@code --remove} runs its commands,
 * in another namespace with {@code --netns}.
 */
@Command(name = "rules", mixinStandardHelpOptions = true,
        description = {"Print the netfilter rules that flow offload needs (io.nfqueue.FlowRules), each with why it is "
                + "there, as a shell script; or install or remove them. A program whose queue has "
                + "QueueOptions.flowOffload(...) decides each connection on its first packet (acceptFlow/dropFlow); "
                + "these rules let the connection's later packets pass or die in the kernel without the queue."},
        footerHeading = "%nExamples:%n",
        footer = {"  rules --flow-offload --queue 0 --hook input --mask 0x300000",
            "  rules --flow-offload --queue 0 --hook prerouting --mode repeat --nft",
            "  rules --flow-offload --queue 0 --hook input --install --netns /var/run/netns/lab",
            "The rules replace a plain feed rule such as",
            "  iptables -A INPUT -j NFQUEUE --queue-num N --queue-bypass",
            "  nft add rule inet filter input queue num N bypass",
            "  (nft's queue statement needs a kernel with CONFIG_NFT_QUEUE; iptables' NFQUEUE target does not)",
            "--install and --remove need root (CAP_NET_ADMIN; --netns also CAP_SYS_ADMIN)."})
final class RulesCli implements Callable<Integer> {
    private final PrintStream out;
    @Spec
    CommandLine.Model.CommandSpec spec;
    @Option(names = "--flow-offload", description = "the flow offload rules (the only rules this command knows)")
    boolean flowOffload;
    @Option(names = "--queue", required = true, paramLabel = "N", description = "queue number, 0..65535")
    int queue;
    @Option(names = "--hook", paramLabel = "HOOK", defaultValue = "input",
            description = "the hook whose packets are queued: " + FlowSetup.HOOK_NAMES + " (default: ${DEFAULT-VALUE})")
    String hook;
    @Option(names = "--mask", paramLabel = "0xMASK", defaultValue = "0x300000",
            description = {"the packet and connection mark bits the program owns, at least two: the lowest marks "
                + "accepted flows, the next dropped flows (default: ${DEFAULT-VALUE})"})
    String mask;
    @Option(names = "--mode", paramLabel = "accept|repeat", defaultValue = "accept",
            description = {"how the verdict's mark reaches the connection: accept (a later chain copies it; iptables "
                + "cannot on prerouting/postrouting) or repeat (the hook runs again; any hook) (default: ${DEFAULT-VALUE})"})
    String mode;
    @Option(names = "--nft", description = "nft commands instead of iptables")
    boolean nft;
    @Option(names = "--bypass", description = "undecided packets pass while no program has the queue bound "
            + "(default: the kernel drops them)")
    boolean bypass;
    @Option(names = "--connmark-by-verdict", description = "for a kernel with CONFIG_NETFILTER_NETLINK_GLUE_CT, where "
            + "the verdict sets the connection mark itself: leaves out the copying rules")
    boolean connmarkByVerdict;
    @Option(names = "--install", description = "run the commands instead of printing them")
    boolean install;
    @Option(names = "--remove", description = "run the commands that remove them")
    boolean remove;
    @Option(names = "--netns", paramLabel = "PATH",
            description = "with --install or --remove: in this network namespace, e.g. /var/run/netns/NAME")
    Path netns;

    RulesCli(PrintStream out) {
        this.out = out;
    }

    @Override
    public Integer call() {
        FlowRules.RuleSet rules = ruleSet();
        if (!install && !remove) {
            out.print(rules.script());
            return 0;
        }
        if (netns != null) {
            Samples.checkNetns(netns);
            Privileges.require("CAP_NET_ADMIN and CAP_SYS_ADMIN, to change rules in another network namespace",
                    Privileges.CAP_NET_ADMIN, Privileges.CAP_SYS_ADMIN);
        } else {
            Privileges.require("CAP_NET_ADMIN, to change netfilter rules", Privileges.CAP_NET_ADMIN);
        }
        String where = netns == null ? "" : " in " + netns;
        if (install) {
            out.println("installing flow offload rules for queue " + queue + where + ":");
            FlowSetup.install(rules, netns, out);
        } else {
            out.println("removing flow offload rules for queue " + queue + where + ":");
            FlowSetup.remove(rules, netns, out);
        }
        return 0;
    }

    /** The rules the options describe; a bad option is a bad command line naming it. */
    FlowRules.RuleSet ruleSet() {
        CommandLine cl = spec.commandLine();
        if (!flowOffload) {
            throw new ParameterException(cl, "give --flow-offload (the flow offload rules are the only rules this "
                    + "command prints)");
        }
        Main.checkQueue(cl, queue);
        if (install && remove) {
            throw new ParameterException(cl, "--install and --remove exclude each other");
        }
        if (netns != null && !install && !remove) {
            throw new ParameterException(cl, "--netns needs --install or --remove");
        }
        FlowOffload offload;
        FlowRules rules;
        try {
            offload = FlowSetup.offload(mask, mode);
            rules = FlowRules.forQueue(queue).hook(FlowSetup.hook(hook)).offload(offload).bypass(bypass)
                    .connmarkByVerdict(connmarkByVerdict);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(cl, e.getMessage());
        }
        try {
            return nft ? rules.nft() : rules.iptables();
        } catch (IllegalStateException e) {
            throw new ParameterException(cl, "iptables has no chain after mangle on " + hook + " but nat, which sees only "
                    + "a connection's first packet, so --mode accept cannot copy the mark there: use --mode repeat or --nft");
        }
    }
}
