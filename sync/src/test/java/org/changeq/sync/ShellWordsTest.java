package org.changeq.sync;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class ShellWordsTest {

    @Test
    void plainWordsStayAsTheyAreAndTheOthersAreSingleQuoted() {
        assertEquals("rsync -rlt --modify-window=-1 '--filter=- *.part' -- /srv/nfs/ rsync://nas/Backup/x",
                ShellWords.join(List.of("rsync", "-rlt", "--modify-window=-1", "--filter=- *.part", "--", "/srv/nfs/",
                        "rsync://nas/Backup/x")));
        assertEquals("'it'\\''s' ''", ShellWords.join(List.of("it's", "")));
    }

    @Test
    void aShellReadsTheLineBackIntoTheSameWords() throws Exception {
        List<String> words = List.of("--filter=- *.part", "it's", "$HOME", "`id`", "a\\b", "two\nlines", "", "~",
                "semi;colon", "--exclude=/a b/");
        Process shell = new ProcessBuilder("sh", "-c", "printf '%s\\0' " + ShellWords.join(words)).start();
        byte[] out = shell.getInputStream().readAllBytes();
        assertEquals(0, shell.waitFor());
        String printed = new String(out, UTF_8);
        assertEquals(words, Arrays.asList(printed.substring(0, printed.length() - 1).split("\0", -1)));
    }
}
