package io.trisync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
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

    @Test
    @DisplayName("--ttl takes 90s, 30m, 1h, 7d up to ten years; a longer one is refused, not wrapped into no expiry")
    void ttlBounded() {
        assertThat(Main.duration("90s")).isEqualTo(Duration.ofSeconds(90));
        assertThat(Main.duration("3650d")).isEqualTo(Duration.ofDays(3650));
        assertThatThrownBy(() -> Main.duration("25000d")).hasMessage("--ttl is at most 3650d");
        assertThatThrownBy(() -> Main.duration("1y")).hasMessageContaining("90s, 30m, 1h or 7d");
    }
}
