package io.nfqueue.samples;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * Run by {@link PrivilegesKernelTest} in a child JVM without capabilities: runs each command
 * line given (arguments separated by "--next") through {@link Main#run} and prints, per command,
 * {@code STATUS <n>}, then its stderr lines prefixed with {@code ERR }.
 */
public final class WithoutPrivilegeMain {
    private WithoutPrivilegeMain() {
    }

    public static void main(String[] args) {
        String all = String.join("\u0000", args);
        for (String command : all.split("\u0000--next\u0000")) {
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            int status = Main.run(command.split("\u0000"), new PrintStream(new ByteArrayOutputStream()),
                    new PrintStream(err, true, StandardCharsets.UTF_8));
            System.out.println("STATUS " + status);
            err.toString(StandardCharsets.UTF_8).lines().forEach(l -> System.out.println("ERR " + l));
        }
        System.out.println("END");
    }
}
