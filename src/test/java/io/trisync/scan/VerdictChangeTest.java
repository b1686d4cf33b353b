package io.trisync.scan;

import static org.assertj.core.api.Assertions.assertThat;

import io.trisync.store.IssueRecord;
import io.trisync.store.PartitionCheck;
import io.trisync.store.SyncVerdict;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Which verdicts a rescan writes, and the checked time a file shows. */
class VerdictChangeTest {

    private static final SyncVerdict SYNCED =
            new SyncVerdict("synced", List.of(), "2026-01-01T00:00:00Z", "op-1", null);

    @Test
    void onlyAChangedFindingIsWritten() {
        assertThat(ResultKeeper.changed(null, "synced", List.of(), true))
                .as("never checked")
                .isTrue();
        assertThat(ResultKeeper.changed(SYNCED, "synced", List.of(), true)).isFalse();
        assertThat(ResultKeeper.changed(SYNCED, "missing", List.of("MISSING_BLOB"), false))
                .isTrue();
        SyncVerdict outOfSync =
                new SyncVerdict("out_of_sync", List.of("MISSING_VECTORS"), "2026-01-01T00:00:00Z", "op-1", null);
        assertThat(ResultKeeper.changed(outOfSync, "out_of_sync", List.of("MISSING_VECTORS"), false))
                .isFalse();
        assertThat(ResultKeeper.changed(outOfSync, "out_of_sync", List.of("SIZE_MISMATCH"), false))
                .as("another issue")
                .isTrue();
        SyncVerdict leftToPerson = new SyncVerdict(
                "synced",
                List.of(),
                "2026-01-01T00:00:00Z",
                "op-1",
                new SyncVerdict.Attention("no backup", List.of(), "2026-01-01T00:00:00Z", "op-1"));
        assertThat(ResultKeeper.changed(leftToPerson, "synced", List.of(), true))
                .as("an attention to clear")
                .isTrue();
    }

    @Test
    void aFileShowsTheLaterOfItsVerdictAndItsPartitionsCheck() {
        PartitionCheck check = new PartitionCheck("t", 3, "2026-01-02T00:00:00.5Z", "op-2");
        assertThat(TenantStatus.later("2026-01-01T00:00:00Z", check)).isEqualTo("2026-01-02T00:00:00.5Z");
        assertThat(TenantStatus.later("2026-01-03T00:00:00Z", check)).isEqualTo("2026-01-03T00:00:00Z");
        // Compared as instants, not as text ("…:00Z" sorts after "…:00.5Z").
        assertThat(TenantStatus.later("2026-01-02T00:00:00Z", check)).isEqualTo("2026-01-02T00:00:00.5Z");
        assertThat(TenantStatus.later("2026-01-01T00:00:00Z", null)).isEqualTo("2026-01-01T00:00:00Z");
    }

    @Test
    void aKnownIssueWithNewDetailsIsRewrittenKeepingItsFirstSighting() {
        IssueRecord was = new IssueRecord(
                "t",
                1,
                "f",
                "f.txt",
                "CHECKSUM_MISMATCH",
                new JsonObject().put("actual", "a"),
                "2026-01-01T00:00:00Z",
                "op-1");
        IssueRecord same = new IssueRecord(
                "t",
                1,
                "f",
                "f.txt",
                "CHECKSUM_MISMATCH",
                new JsonObject().put("actual", "a"),
                "2026-02-01T00:00:00Z",
                "op-2");
        IssueRecord changed = new IssueRecord(
                "t",
                1,
                "f",
                "f.txt",
                "CHECKSUM_MISMATCH",
                new JsonObject().put("actual", "b"),
                "2026-02-01T00:00:00Z",
                "op-2");
        IssueRecord added =
                new IssueRecord("t", 1, "g", "g.txt", "MISSING_BLOB", new JsonObject(), "2026-02-01T00:00:00Z", "op-2");
        Map<String, IssueRecord> before = Map.of(was.id(), was);

        assertThat(ResultKeeper.restated(Map.of(same.id(), same, added.id(), added), before))
                .isEmpty();
        assertThat(ResultKeeper.restated(Map.of(changed.id(), changed), before))
                .containsExactly(new IssueRecord(
                        "t",
                        1,
                        "f",
                        "f.txt",
                        "CHECKSUM_MISMATCH",
                        new JsonObject().put("actual", "b"),
                        "2026-01-01T00:00:00Z",
                        "op-1"));
    }
}
