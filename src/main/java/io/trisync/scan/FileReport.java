package io.trisync.scan;

import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * One file's reconciliation: its verdict, which stores hold it, and its issues. Files known only
 * to S3 or Qdrant (orphans) have no name and no metadata. {@code active}: its record is an active
 * file's (not a deleted file's tombstone): the files a tenant's status and the metrics count.
 */
public record FileReport(
        String fileId,
        String name,
        Verdict verdict,
        boolean active,
        boolean inMongo,
        boolean inS3,
        boolean inQdrant,
        List<Issue> issues) {

    /** One inconsistency with its human description, suggested action and details. */
    public record Issue(IssueType type, String fileId, String fileName, JsonObject details) {

        public JsonObject toJson() {
            return new JsonObject()
                    .put("type", type.name())
                    .put("file_id", fileId)
                    .put("file_name", fileName)
                    .put("description", type.description())
                    .put("suggested_action", type.suggestedAction())
                    .put("details", details);
        }
    }

    /** This report with {@code others} as its issues (the same types, details brought up to date). */
    public FileReport withIssues(List<Issue> others) {
        return new FileReport(fileId, name, verdict, active, inMongo, inS3, inQdrant, others);
    }
}
