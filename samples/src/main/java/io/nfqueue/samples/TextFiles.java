package io.nfqueue.samples;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Reads the text files the commands take (rules, blocklists) with one message per way it can fail. */
final class TextFiles {
    private TextFiles() {
    }

    /**
     * The lines of {@code file}, a UTF-8 text file; anything readable that is not a directory
     * will do ({@code /dev/null} is empty).
     *
     * @param what what the file is, for messages: "rules file", "blocklist"
     * @throws UsageException when it is missing, a directory, unreadable or not text
     */
    static List<String> readLines(Path file, String what) {
        if (Files.notExists(file)) {
            throw new UsageException("no " + what + " at " + file);
        }
        if (Files.isDirectory(file)) {
            throw new UsageException(file + " is a directory, not a " + what);
        }
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (AccessDeniedException e) {
            throw new UsageException("cannot read " + what + " " + file + ": permission denied");
        } catch (IOException e) {
            throw new UsageException("cannot read " + what + " " + file + ": " + e);
        }
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            text = null;
        }
        if (text == null || text.indexOf('\0') >= 0) {
            throw new UsageException(what + " " + file + " is not a text file (expected UTF-8 text, one entry a line)");
        }
        return text.lines().toList();
    }
}
