package org.changeq.pipeline.manifest;

/**
 * System properties that must be set before any Chronicle class loads: no usage analytics
 * (a backup tool never phones home), no banners on stdout. The launchers pass the same
 * properties on the command line; this covers embedders and tests.
 */
public final class ChronicleSettings {

    static final String ANALYTICS_DISABLE = "chronicle.analytics.disable";

    private ChronicleSettings() {
    }

    public static void apply() {
        System.setProperty(ANALYTICS_DISABLE, "true");
        System.setProperty("chronicle.announcer.disable", "true");
        System.setProperty("disable.perf.info", "true");
        System.setProperty("jvm.resource.tracing", "false");
    }
}
