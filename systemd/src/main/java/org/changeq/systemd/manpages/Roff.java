package org.changeq.systemd.manpages;

import java.util.Locale;

/**
 * A man(7) page under construction: requests on lines of their own, text escaped so that roff prints it as
 * written. The output is ASCII (other characters become {@code \[uXXXX]}), so it renders the same whatever
 * encoding {@code man} assumes. Not thread-safe.
 */
final class Roff {
    private final StringBuilder page = new StringBuilder();

    /** Starts a page: {@code .TH} with the title upper-cased, the section, and the source and manual names. */
    Roff(String title, String section, String source) {
        request("TH", quoted(title.toUpperCase(Locale.ROOT)), section, "\"\"", quoted(source), quoted("changeq manual"));
        // Options and paths must survive copying from the page: never hyphenate them, nor stretch the spaces.
        request("nh");
        request("ad", "l");
    }

    Roff section(String heading) {
        return request("SH", quoted(heading.toUpperCase(Locale.ROOT)));
    }

    Roff subsection(String heading) {
        return request("SS", quoted(heading));
    }

    Roff paragraph() {
        return request("PP");
    }

    /** A tagged paragraph: {@code tag} (already roff) on its own line, the body indented below it. */
    Roff tagged(String tag) {
        request("TP");
        return line(tag);
    }

    /** An indented paragraph started by {@code mark} (already roff), as for list items. */
    Roff item(String mark, int indent) {
        return request("IP", '"' + mark + '"', String.valueOf(indent));
    }

    Roff lineBreak() {
        return request("br");
    }

    Roff indent() {
        return request("RS", "4");
    }

    Roff unindent() {
        return request("RE");
    }

    /** Lines printed as they are, neither filled nor adjusted. */
    Roff verbatim(Iterable<String> lines) {
        request("nf");
        for (String line : lines) {
            line(escape(line));
        }
        return request("fi");
    }

    /** Filled text; {@code roff} is already escaped and may hold font escapes. */
    Roff text(String roff) {
        for (String line : roff.split("\n", -1)) {
            String trimmed = line.strip();
            if (!trimmed.isEmpty()) {
                line(trimmed);
            }
        }
        return this;
    }

    Roff request(String name, String... arguments) {
        page.append('.').append(name);
        for (String argument : arguments) {
            page.append(' ').append(argument);
        }
        page.append('\n');
        return this;
    }

    private Roff line(String roff) {
        // A text line starting with a control character would be read as a request.
        page.append(roff.startsWith(".") || roff.startsWith("'") ? "\\&" : "").append(roff).append('\n');
        return this;
    }

    @Override
    public String toString() {
        return page.toString();
    }

    static String bold(String text) {
        return "\\fB" + escape(text) + "\\fR";
    }

    static String italic(String text) {
        return "\\fI" + escape(text) + "\\fR";
    }

    /**
     * {@code text} as roff prints it literally: backslashes and hyphens escaped (a hyphen in an option must stay
     * an ASCII minus to be copied from the page), line breaks kept.
     */
    static String escape(String text) {
        StringBuilder escaped = new StringBuilder(text.length() + 16);
        text.codePoints().forEach(c -> {
            if (c == '\\') {
                escaped.append("\\e");
            } else if (c == '-') {
                escaped.append("\\-");
            } else if (c == '\n' || (c >= 0x20 && c < 0x7f)) {
                escaped.append((char) c);
            } else if (c == '\t') {
                escaped.append("    ");
            } else {
                escaped.append(String.format(Locale.ROOT, "\\[u%04X]", c));
            }
        });
        return escaped.toString();
    }

    private static String quoted(String text) {
        return '"' + escape(text).replace("\"", "\\(dq") + '"';
    }
}
