package io.trisync.ops;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class InterruptionTest {

    @Test
    @DisplayName("The reason names the node and the signal; without a known signal it names none")
    void reason() {
        assertThat(new Interruption("n1", "SIGTERM").reason()).isEqualTo("node n1 stopped (SIGTERM) while it ran");
        assertThat(new Interruption("n1", null).reason()).isEqualTo("node n1 stopped while it ran");
    }

    @Test
    @DisplayName("The result says whether a new run goes on from the work done: re-index, erasure and repair do,"
            + " a scan starts over")
    void result() {
        Interruption stop = new Interruption("n1", "SIGINT");
        JsonObject reindex = stop.result("reindex");
        assertThat(reindex.getBoolean("interrupted")).isTrue();
        assertThat(reindex.getString("node")).isEqualTo("n1");
        assertThat(reindex.getString("signal")).isEqualTo("SIGINT");
        assertThat(reindex.getBoolean("resumable")).isTrue();
        assertThat(reindex.getString("next")).contains("checkpoints");
        assertThat(stop.result("erase").getBoolean("resumable")).isTrue();
        assertThat(stop.result("repair").getBoolean("resumable")).isTrue();
        assertThat(stop.result("scan").getBoolean("resumable")).isFalse();
        assertThat(stop.result("something-new").getBoolean("resumable")).isFalse();
        assertThat(stop.result(null).getString("next")).isEqualTo("start it again");
    }
}
