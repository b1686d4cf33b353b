package io.trisync;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class MainTest {

    @Test
    @DisplayName("The start log names the jar it runs from: relative under the working directory, else absolute")
    void namesTheJarItRunsFrom() {
        Path work = Path.of("/srv/trisync");
        assertThat(Main.jar(Path.of("/srv/trisync/trisync.jar"), work)).isEqualTo("trisync.jar");
        assertThat(Main.jar(Path.of("/srv/trisync/target/trisync.jar"), work)).isEqualTo("target/trisync.jar");
        assertThat(Main.jar(Path.of("/opt/app/trisync-1.0.jar"), work)).isEqualTo("/opt/app/trisync-1.0.jar");
        assertThat(Main.jar(Path.of("/srv/trisync/target/classes"), work)).isEqualTo("trisync.jar");
    }
}
