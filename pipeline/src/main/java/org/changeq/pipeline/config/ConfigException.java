package org.changeq.pipeline.config;

/**
 * The configuration is missing or invalid. The message is meant for the person who wrote the
 * file: it names the file, the line and column, the key path and what to change, e.g.
 * {@code /etc/changeq/changeq.yaml line 7 column 38, routes.mirror.exclude-list: no list named 'bypas'; defined lists: bypass}.
 * Programs exit with {@link org.changeq.pipeline.ExitCodes#CONFIG} on it.
 */
public final class ConfigException extends Exception {

    private static final long serialVersionUID = 1L;

    ConfigException(String message) {
        super(message);
    }

    ConfigException(String message, Throwable cause) {
        super(message, cause);
    }
}
