package io.trisync.ops;

import io.trisync.store.SyncOperation;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * When a running operation is stuck, and how it ends: the node process that ran it is gone or its
 * node left the cluster (failed), its expected duration passed (timed out), or its last heartbeat is
 * older than three intervals (failed). Pure.
 */
public final class StuckRule {

    /**
     * The verdict for a stuck operation: its final status, the reason recorded on it, and the check
     * that caught it ({@code process}, {@code cluster}, {@code deadline} or {@code heartbeat}).
     */
    public record Verdict(SyncOperation.Status status, String reason, String layer) {}

    private static final String PROCESS = "process";
    private static final String CLUSTER = "cluster";
    private static final String DEADLINE = "deadline";
    private static final String HEARTBEAT = "heartbeat";

    /**
     * Every check a verdict names, in the order {@link #judge} tries them: the metrics register a
     * series of {@code trisync_stuck_operations_cleaned_total} for each at 0 when a node starts.
     */
    public static final List<String> LAYERS = List.of(PROCESS, CLUSTER, DEADLINE, HEARTBEAT);

    private final Duration heartbeatInterval;

    public StuckRule(Duration heartbeatInterval) {
        this.heartbeatInterval = heartbeatInterval;
    }

    /**
     * The verdict, or null when {@code op} is healthy. {@code liveMembers}: the member ids alive now;
     * null means membership is unknown (a standalone node) and is not checked. {@code
     * goneIncarnations}: node processes known to be gone, each with the reason; an operation run by
     * one of them fails at once.
     */
    public Verdict judge(SyncOperation op, Instant now, Set<String> liveMembers, Map<String, String> goneIncarnations) {
        if (op.status() != SyncOperation.Status.RUNNING) {
            return null;
        }
        String gone = op.incarnation() == null ? null : goneIncarnations.get(op.incarnation());
        if (gone != null) {
            return new Verdict(
                    SyncOperation.Status.FAILED, "the node process that ran it is gone (" + gone + ")", PROCESS);
        }
        if (liveMembers != null && op.nodeId() != null && !liveMembers.contains(op.nodeId())) {
            return new Verdict(SyncOperation.Status.FAILED, "node " + op.name() + " left the cluster", CLUSTER);
        }
        Instant deadline = op.startedAt().plusSeconds(op.expectedDurationSeconds());
        if (now.isAfter(deadline)) {
            return new Verdict(
                    SyncOperation.Status.TIMED_OUT,
                    "expected duration of " + op.expectedDurationSeconds() + "s passed",
                    DEADLINE);
        }
        Instant lastSign = op.heartbeatAt() == null ? op.startedAt() : op.heartbeatAt();
        Duration silence = Duration.between(lastSign, now);
        if (silence.compareTo(heartbeatInterval.multipliedBy(3)) > 0) {
            return new Verdict(SyncOperation.Status.FAILED, "no heartbeat for " + silence.toSeconds() + "s", HEARTBEAT);
        }
        return null;
    }
}
