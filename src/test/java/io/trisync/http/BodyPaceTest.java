package io.trisync.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class BodyPaceTest {

    private static final long S = 1_000_000_000L;

    @Test
    @DisplayName("A body trickled a byte a second, each within the idle timeout, is refused once a window has passed")
    void trickleIsRefusedAfterTheWindow() {
        BodyPace pace = new BodyPace(3_000, 1024, 10_000, 0, 0);
        for (int t = 1; t < 10; t++) {
            assertThat(pace.check(t * S, t, true))
                    .as("second %d: within the grace", t)
                    .isNull();
        }
        assertThat(pace.check(10 * S, 10, true))
                .startsWith("the request body arrived too slowly: 10 bytes in the last 10 s")
                .contains("at least 1024 bytes a second");
    }

    @Test
    @DisplayName("A body that began fast and then trickles is refused: the rate is the last window's, not the average")
    void fastStartThenTrickleIsRefused() {
        BodyPace pace = new BodyPace(3_000, 1024, 10_000, 0, 0);
        assertThat(pace.check(S, 1_000_000, true)).isNull();
        String refusal = null;
        int t = 2;
        for (; t < 60 && refusal == null; t++) {
            refusal = pace.check(t * S, 1_000_000 + t, true);
        }
        // The average since the start stays above 1 KiB/s for 16 minutes.
        assertThat(refusal)
                .as("refused within a window after the trickle began")
                .isNotNull();
        assertThat(t).isLessThanOrEqualTo(13);
    }

    @Test
    @DisplayName("A slow but steady body (just over the minimum) and a body without a minimum are never cut")
    void steadyBodyIsKept() {
        BodyPace steady = new BodyPace(3_000, 1024, 10_000, 0, 0);
        BodyPace unlimited = new BodyPace(3_000, 0, 10_000, 0, 0);
        for (int t = 1; t <= 600; t++) {
            assertThat(steady.check(t * S, t * 1100L, true)).isNull();
            assertThat(unlimited.check(t * S, t, true)).isNull();
        }
    }

    @Test
    @DisplayName("Time while the server does not read (its own backpressure) is not held against the body")
    void serverPauseIsNotTheClients() {
        BodyPace pace = new BodyPace(30_000, 1024, 10_000, 0, 0);
        assertThat(pace.check(S, 20_000, true)).isNull();
        for (int t = 2; t <= 20; t++) {
            assertThat(pace.check(t * S, 20_000 + t, false))
                    .as("second %d: not read", t)
                    .isNull();
        }
        for (int t = 21; t < 30; t++) {
            assertThat(pace.check(t * S, 20_000 + t, true))
                    .as("second %d: within a window of reading", t)
                    .isNull();
        }
        assertThat(pace.check(30 * S, 20_030, true)).startsWith("the request body arrived too slowly");
    }

    @Test
    @DisplayName("A body that stops for the idle timeout is refused as stopped, before any window")
    void stallIsRefused() {
        BodyPace pace = new BodyPace(3_000, 1024, 10_000, 0, 100);
        assertThat(pace.check(S, 200, true)).isNull();
        assertThat(pace.check(2 * S, 200, true)).isNull();
        assertThat(pace.check(4 * S, 200, true)).isEqualTo("the request body stopped arriving (200 bytes read)");
    }

    @Test
    @DisplayName("With the default settings, curl's --limit-rate 3k (64 KiB at once, then 21 s of nothing, over and"
            + " over) is not cut; it was with a 10 s window")
    void burstyClientKeptByTheDefaults() throws Exception {
        JsonObject http = new JsonObject(Files.readString(Path.of("conf/config.json"))).getJsonObject("http");
        long idleMs = http.getLong("idleTimeoutSeconds") * 1000;
        long minRate = http.getLong("minBodyBytesPerSecond");
        long windowMs = http.getLong("minBodyRateWindowSeconds") * 1000;
        BodyPace defaults = new BodyPace(idleMs, minRate, windowMs, 0, 0);
        BodyPace shortWindow = new BodyPace(idleMs, minRate, 10_000, 0, 0);
        String cut = null;
        for (int t = 1; t <= 200; t++) {
            long bytes = 65_536L * (1 + t / 21);
            assertThat(defaults.check(t * S, bytes, true)).as("second %d", t).isNull();
            cut = cut == null ? shortWindow.check(t * S, bytes, true) : cut;
        }
        assertThat(cut).as("a 10 s window cut it").isNotNull();
    }
}
