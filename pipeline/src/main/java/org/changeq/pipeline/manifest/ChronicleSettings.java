package org.changeq.pipeline.manifest;

/**
 * System properties that must be set before any Chronicle class loads: no usage analytics
 * (a backup tool never phones home), no banners on stdout. The launchers pass the same
 * properties on the command line; this covers embedders and tests.
 *
 * <p>chronicle-core also loads the file the property {@code system.properties} names, by default
 * {@code system.properties} or {@code ../system.properties} relative to the working directory, into the system
 * properties: a root run started in a directory another user can write would take that user's settings. Naming
 * an empty file turns that off.
 */
public final class ChronicleSettings {

    static final String ANALYTICS_DISABLE = "chronicle.analytics.disable";
    static final String PROPERTIES_FILE = "system.properties";

    private ChronicleSettings() {
    }

    public static void apply() {
        System.setProperty(ANALYTICS_DISABLE, "true");
        System.setProperty("chronicle.announcer.disable", "true");
        System.setProperty("disable.perf.info", "true");
        System.setProperty("jvm.resource.tracing", "false");
        System.setProperty(PROPERTIES_FILE, "/dev/null");
    }
}
