package io.trisync.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonArray;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class SyncVerdictTest {

    @Test
    @DisplayName("A verdict with its attention survives its document; no document means never checked")
    void roundTrip() {
        SyncVerdict v = new SyncVerdict(
                "error",
                List.of("MISSING_BLOB"),
                "2026-12-02T00:00:00Z",
                "op-1",
                new SyncVerdict.Attention("content lost", List.of("MISSING_BLOB"), "2026-12-02T00:00:01Z", "op-2"));
        assertThat(SyncVerdict.fromDocument(v.toDocument())).isEqualTo(v);
        assertThat(v.attentionReason()).isEqualTo("content lost");
        assertThat(SyncVerdict.fromDocument(null)).isNull();
    }

    @Test
    @DisplayName(
            "A check sets what it found and clears the attention only when asked; a flag sets verdict and attention only")
    void changes() {
        assertThat(SyncVerdict.Change.checked("synced", List.of(), "t", "op", true)
                        .fields())
                .containsEntry("verdict", "synced")
                .containsEntry("issues", new JsonArray())
                .containsEntry("attention", null);
        assertThat(SyncVerdict.Change.checked("missing", List.of("MISSING_BLOB"), "t", "op", false)
                        .fields())
                .doesNotContainKey("attention");
        SyncVerdict.Attention a = new SyncVerdict.Attention("why", List.of(), "t", "op");
        assertThat(SyncVerdict.Change.leftToPerson(a).fields())
                .containsOnlyKeys("verdict", "attention")
                .containsEntry("verdict", "error");
    }
}
