package org.changeq.sync;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One JSON object of a log that writes one a line (rclone's {@code --use-json-log}): members whose values are strings,
 * numbers, booleans, null or objects of the same. Arrays are not read. Enough for a log, without a JSON library in
 * the package's runtime.
 */
final class JsonLine {

    private final String text;
    private int at;

    private JsonLine(String text) {
        this.text = text;
    }

    /**
     * The object {@code text} holds: a string member as a {@code String}, a number as a {@code Long} (a fraction as a
     * {@code Double}), an object as a {@code Map}.
     *
     * @throws IllegalArgumentException when {@code text} is not such an object
     */
    static Map<String, Object> parse(String text) {
        JsonLine line = new JsonLine(text);
        line.space();
        Map<String, Object> object = line.object();
        line.space();
        if (line.at != text.length()) {
            throw line.malformed();
        }
        return object;
    }

    private Map<String, Object> object() {
        expect('{');
        Map<String, Object> members = new LinkedHashMap<>();
        space();
        if (peek() == '}') {
            at++;
            return members;
        }
        while (true) {
            space();
            String name = string();
            space();
            expect(':');
            space();
            members.put(name, value());
            space();
            char next = next();
            if (next == '}') {
                return members;
            }
            if (next != ',') {
                throw malformed();
            }
        }
    }

    private Object value() {
        char c = peek();
        if (c == '"') {
            return string();
        }
        if (c == '{') {
            return object();
        }
        for (String word : new String[] {"true", "false", "null"}) {
            if (text.startsWith(word, at)) {
                at += word.length();
                return word.equals("null") ? null : Boolean.valueOf(word);
            }
        }
        int start = at;
        while (at < text.length() && "+-.0123456789eE".indexOf(text.charAt(at)) >= 0) {
            at++;
        }
        String number = text.substring(start, at);
        if (number.isEmpty()) {
            throw malformed();
        }
        try {
            return number.matches("-?\\d+") ? (Object) Long.valueOf(number) : (Object) Double.valueOf(number);
        } catch (NumberFormatException e) {
            throw malformed();
        }
    }

    private String string() {
        expect('"');
        StringBuilder out = new StringBuilder();
        while (true) {
            char c = next();
            if (c == '"') {
                return out.toString();
            }
            if (c != '\\') {
                out.append(c);
                continue;
            }
            char escaped = next();
            switch (escaped) {
                case 'n' -> out.append('\n');
                case 't' -> out.append('\t');
                case 'r' -> out.append('\r');
                case 'b' -> out.append('\b');
                case 'f' -> out.append('\f');
                case 'u' -> {
                    if (at + 4 > text.length()) {
                        throw malformed();
                    }
                    out.append((char) Integer.parseInt(text, at, at + 4, 16));
                    at += 4;
                }
                default -> out.append(escaped);
            }
        }
    }

    private void space() {
        while (at < text.length() && Character.isWhitespace(text.charAt(at))) {
            at++;
        }
    }

    private char peek() {
        if (at >= text.length()) {
            throw malformed();
        }
        return text.charAt(at);
    }

    private char next() {
        char c = peek();
        at++;
        return c;
    }

    private void expect(char c) {
        if (next() != c) {
            throw malformed();
        }
    }

    private IllegalArgumentException malformed() {
        return new IllegalArgumentException("not a JSON object at character " + at + ": " + text);
    }
}
