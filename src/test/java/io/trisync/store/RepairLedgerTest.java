package io.trisync.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class RepairLedgerTest {

    private static final Instant AT = Instant.parse("2026-12-02T10:15:30.123Z");
    private static final Actor ADMIN = new Actor("ops", null, true, "127.0.0.1");

    @Test
    @DisplayName("A quarantine entry survives its document, through a move, a restore and the API's view")
    void quarantineEntry() {
        QuarantineEntry moving = new QuarantineEntry(
                "q1",
                "acme",
                "f1",
                "acme/07/f1",
                "quarantine~/acme/q1",
                42,
                "ab".repeat(32),
                "\"etag\"",
                "text/plain",
                Map.of("sha256", "ab".repeat(32)),
                "ORPHAN_BLOB",
                "op-1",
                AT,
                RepairStore.MOVING,
                null,
                null);
        assertThat(QuarantineEntry.fromDocument(moving.toDocument())).isEqualTo(moving);
        QuarantineEntry restored = moving.withState(RepairStore.QUARANTINED).restoredBy(ADMIN);
        assertThat(QuarantineEntry.fromDocument(restored.toDocument())).isEqualTo(restored);
        assertThat(restored.state()).isEqualTo(RepairStore.RESTORED);
        assertThat(moving.moveFields().fieldNames()).doesNotContain(QuarantineEntry.ID, QuarantineEntry.STATE);
        JsonObject shown = restored.toPublicJson();
        assertThat(shown.getString("id")).isEqualTo("q1");
        assertThat(shown.getString("user_id")).isEqualTo("acme");
        assertThat(shown.getString("quarantined_at")).isEqualTo(AT.toString());
        assertThat(shown.getJsonObject("restored_by").getString("subject")).isEqualTo("ops");
        assertThat(shown.getValue("purged_by")).isNull();
    }

    @Test
    @DisplayName(
            "An audit entry keeps the planned action's fields beside what came of it; the API's view drops the ids")
    void auditEntry() {
        JsonObject action = new JsonObject()
                .put("action", "REEMBED")
                .put("user_id", "acme")
                .put("file_id", "f1")
                .put("reversible", true);
        AuditEntry entry = new AuditEntry(
                "a1", "op-1", action, "done", null, new JsonObject().put("points", 0), new JsonObject(), AT);
        AuditEntry back = AuditEntry.fromDocument(entry.toDocument());
        assertThat(back).isEqualTo(entry);
        assertThat(back.actionName()).isEqualTo("REEMBED");
        JsonObject shown = entry.toPublicJson();
        assertThat(shown.fieldNames()).doesNotContain(AuditEntry.ID, AuditEntry.OP_ID);
        assertThat(shown.getString("file_id")).isEqualTo("f1");
        assertThat(shown.getString("at")).isEqualTo(AT.toString());
        assertThat(shown.containsKey(AuditEntry.REASON)).isTrue();
    }
}
