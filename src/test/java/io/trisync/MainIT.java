package io.trisync;

import static org.assertj.core.api.Assertions.assertThat;

import io.trisync.testsupport.ChildJvm;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The real command line in a child JVM. */
@Timeout(240)
class MainIT {

    private static Process run(String key, String value) throws Exception {
        ProcessBuilder pb = ChildJvm.java(List.of(), Main.class.getName());
        pb.environment().put(key, value);
        pb.redirectErrorStream(false);
        return pb.start();
    }

    @Test
    @DisplayName("A bad configuration value stops the node at start with one line naming the key and value")
    void badValueStopsTheNode() throws Exception {
        Process p = run("HTTP_PORT", "abc");
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.exitValue()).isEqualTo(2);
        assertThat(err).isEqualTo("Invalid configuration HTTP_PORT=\"abc\": expected a whole number");
        assertThat(out).doesNotContain("listening");
    }

    @Test
    @DisplayName("A negative interval stops the node too")
    void negativeIntervalStopsTheNode() throws Exception {
        Process p = run("SYNC_CLEANUP_INTERVAL_SECONDS", "-30");
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertThat(p.exitValue()).isEqualTo(2);
        assertThat(err).contains("SYNC_CLEANUP_INTERVAL_SECONDS").contains("-30");
    }
}
