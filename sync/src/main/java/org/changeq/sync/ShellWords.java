package org.changeq.sync;

import java.util.List;
import java.util.regex.Pattern;

/**
 * An argument vector as one line a POSIX shell reads back into the same words, for logs and plans an operator
 * pastes into a terminal. changeq itself never runs rsync through a shell. Thread-safe (stateless).
 */
final class ShellWords {

    /** Words a shell takes literally: no quoting, no globbing, no expansion. */
    private static final Pattern PLAIN = Pattern.compile("[A-Za-z0-9_@%+=:,./-]+");

    private ShellWords() {
    }

    /** {@code argv} joined by spaces, each word single-quoted unless the shell reads it as it is. */
    static String join(List<String> argv) {
        StringBuilder line = new StringBuilder();
        for (String word : argv) {
            if (line.length() > 0) {
                line.append(' ');
            }
            line.append(quote(word));
        }
        return line.toString();
    }

    static String quote(String word) {
        if (PLAIN.matcher(word).matches()) {
            return word;
        }
        // Inside single quotes nothing is special but the quote itself, which closes, is escaped, and reopens.
        return "'" + word.replace("'", "'\\''") + "'";
    }
}
