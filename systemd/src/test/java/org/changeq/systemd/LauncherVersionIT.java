package org.changeq.systemd;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The built programs, started by their launchers, print the version of the build that made them. */
class LauncherVersionIT {

    @Test
    void everyProgramPrintsItsNameAndTheBuildsVersion() throws Exception {
        String version = System.getProperty("changeq.version");
        for (String program : List.of("changeq-tracker", "changeq-sync", "changeq-queue")) {
            ModuleFiles.Result result = ModuleFiles.run(ModuleFiles.target(""),
                    List.of(ModuleFiles.target("changeq/bin/" + program).toString(), "--version"),
                    Map.of("CHANGEQ_USER", "root", "CHANGEQ_JAVA_OPTS", ""));

            assertEquals(0, result.exitCode(), result.toString());
            assertEquals(program + " " + version + "\n", result.stdout(), result.toString());
        }
    }
}
