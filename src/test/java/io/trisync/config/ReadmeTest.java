package io.trisync.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class ReadmeTest {

    @Test
    @DisplayName("The README's configuration table lists every key with its JSON path")
    void readmeDocumentsEveryKey() throws Exception {
        String readme = Files.readString(Path.of("README.md"));
        for (ConfigKey key : ConfigKeys.ALL) {
            assertThat(readme).contains("| `" + key.env() + "` | `" + key.path() + "` |");
        }
    }
}
