package io.trisync.repair;

import io.trisync.scan.FileInspector.State;
import io.trisync.scan.IssueType;
import io.trisync.store.FileRecord;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Locale;

/** How the repair of a file ended: each action's outcome, and what the stores held when it was decided. */
final class Outcomes {

    private Outcomes() {}

    /** How an action ended. */
    public enum Status {
        DONE,
        ALREADY_RESOLVED,
        LEFT_TO_PERSON,
        FAILED;

        String wire() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public record Outcome(PlannedAction action, Status status, String reason, JsonObject before, JsonObject after) {}

    /** The outcome of one file: its actions' outcomes and the issues closed and still open. */
    public record FileOutcome(List<Outcome> outcomes, List<IssueType> resolved, List<IssueType> remaining) {}

    /** What the stores held for the file when the action was decided. */
    static JsonObject describe(State s) {
        JsonObject out = new JsonObject();
        FileRecord r = s.record();
        if (r != null) {
            out.put(
                    "record",
                    new JsonObject()
                            .put("status", r.status().wire())
                            .put("size", r.size())
                            .put("sha256", r.sha256())
                            .put("version", r.version())
                            .put(
                                    "chunks",
                                    r.embedding() == null ? 0 : r.embedding().chunks()));
        }
        if (s.blob() != null) {
            out.put(
                    "blob",
                    new JsonObject()
                            .put("key", s.blob().key())
                            .put("size", s.blob().size())
                            .put("sha256", s.blob().sha256())
                            .put("etag", s.blob().etag()));
        }
        out.put("points", s.points().size());
        out.put(
                "issues",
                new JsonArray(s.issues().stream().map(Enum::name).sorted().toList()));
        return out;
    }

    /** An action done: what it found and what it left. */
    static Outcome done(PlannedAction action, JsonObject before, JsonObject after) {
        return new Outcome(action, Status.DONE, null, before, after);
    }

    static Future<Outcome> failed(PlannedAction action, JsonObject before, String reason) {
        return Future.succeededFuture(new Outcome(action, Status.FAILED, reason, before, null));
    }
}
