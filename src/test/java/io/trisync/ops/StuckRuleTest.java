package io.trisync.ops;

import static org.assertj.core.api.Assertions.assertThat;

import io.trisync.store.SyncOperation;
import io.trisync.store.SyncOperation.Status;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class StuckRuleTest {

    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
    private final StuckRule rule = new StuckRule(Duration.ofSeconds(30));

    /** An operation run by the node named {@code "node-" + member} whose member id is {@code member}. */
    private static SyncOperation op(Status status, Instant heartbeat, long expected, String member) {
        return op(status, heartbeat, expected, member, "node-" + member);
    }

    private static SyncOperation op(Status status, Instant heartbeat, long expected, String member, String name) {
        return new SyncOperation(
                "op", "t", "scan", status, T0, null, heartbeat, expected, null, 0, null, member, name, null, null,
                null);
    }

    @Test
    @DisplayName("A healthy operation is left alone, up to exactly three intervals of silence")
    void healthy() {
        assertThat(rule.judge(op(Status.RUNNING, T0, 600, "a"), T0.plusSeconds(90), Set.of("a"), Map.of()))
                .isNull();
        assertThat(rule.judge(op(Status.RUNNING, T0.plusSeconds(60), 600, "a"), T0.plusSeconds(100), null, Map.of()))
                .isNull();
    }

    @Test
    @DisplayName("More than three intervals without a heartbeat: failed")
    void staleHeartbeat() {
        StuckRule.Verdict v = rule.judge(op(Status.RUNNING, T0, 600, "a"), T0.plusSeconds(91), Set.of("a"), Map.of());
        assertThat(v.status()).isEqualTo(Status.FAILED);
        assertThat(v.reason()).contains("no heartbeat for 91s");
    }

    @Test
    @DisplayName("Past the expected duration: timed out, even with fresh heartbeats")
    void pastExpectedDuration() {
        StuckRule.Verdict v =
                rule.judge(op(Status.RUNNING, T0.plusSeconds(300), 300, "a"), T0.plusSeconds(301), null, Map.of());
        assertThat(v.status()).isEqualTo(Status.TIMED_OUT);
    }

    @Test
    @DisplayName("Its node has left the cluster: failed at once; unknown membership is not checked")
    void nodeGone() {
        StuckRule.Verdict v = rule.judge(op(Status.RUNNING, T0, 600, "b"), T0.plusSeconds(1), Set.of("a"), Map.of());
        assertThat(v.status()).isEqualTo(Status.FAILED);
        assertThat(v.reason()).contains("node node-b left the cluster");
        assertThat(rule.judge(op(Status.RUNNING, T0, 600, "b"), T0.plusSeconds(1), null, Map.of()))
                .isNull();
        assertThat(rule.judge(op(Status.RUNNING, T0, 600, "a"), T0.plusSeconds(1), Set.of("a"), Map.of()))
                .as("a live member, whose name is not a member id")
                .isNull();
    }

    @Test
    @DisplayName("An operation recorded before node names were kept is judged alike and named by its member id")
    void recordedWithoutName() {
        StuckRule.Verdict v =
                rule.judge(op(Status.RUNNING, T0, 600, "b", null), T0.plusSeconds(1), Set.of("a"), Map.of());
        assertThat(v.reason()).contains("node b left the cluster");
        assertThat(rule.judge(op(Status.RUNNING, T0, 600, "a", null), T0.plusSeconds(1), Set.of("a"), Map.of()))
                .isNull();
    }

    @Test
    @DisplayName("Operations that ended are never stuck")
    void ended() {
        assertThat(rule.judge(op(Status.COMPLETED, T0, 1, "x"), T0.plusSeconds(9999), Set.of(), Map.of()))
                .isNull();
    }
}
