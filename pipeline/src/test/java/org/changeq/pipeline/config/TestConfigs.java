package org.changeq.pipeline.config;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.changeq.pipeline.config.ChangeqConfig;
import org.changeq.pipeline.config.ConfigException;
import org.changeq.pipeline.config.ConfigLoader;
import org.changeq.pipeline.config.RouteConfig;

/** Configs for tests, read by the real loader from YAML text. */
public final class TestConfigs {

    private TestConfigs() {
    }

    public static ChangeqConfig load(String yaml) {
        try {
            Path file = Files.createTempFile("changeq-test", ".yaml");
            try {
                Files.writeString(file, yaml);
                return ConfigLoader.load(file);
            } finally {
                Files.delete(file);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (ConfigException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
    }

    /** Route {@code r} given as a YAML flow mapping, on root {@code nfs} at {@code /srv/nfs}. */
    public static RouteConfig route(String routeYaml) {
        return config("/srv/nfs", "[]", routeYaml).route("r");
    }

    public static ChangeqConfig config(String rootPath, String rootExcludes, String routeYaml) {
        return load("queue: /var/lib/changeq/queue\nstate: /var/lib/changeq/state\n"
                + "roots:\n  nfs: {path: " + rootPath + ", exclude: " + rootExcludes + "}\n"
                + "routes:\n  r: " + routeYaml + "\n");
    }
}
