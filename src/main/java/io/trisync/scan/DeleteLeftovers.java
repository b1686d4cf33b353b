package io.trisync.scan;

import io.vertx.core.json.JsonObject;

/**
 * The details of a {@link IssueType#DELETE_INCOMPLETE} issue: what a delete left behind. {@code
 * blob}: whether the content is still in S3, null when nobody looked (a search sees only points);
 * {@code points}: how many of the file's points Qdrant still holds (at least that many). The repair
 * planner reads them to choose its actions.
 */
public record DeleteLeftovers(Boolean blob, int points) {

    public static final String BLOB = "blob";
    public static final String POINTS = "points";

    /** Merged into an issue's details (beside any other field, such as who found it). */
    public JsonObject toJson() {
        JsonObject json = new JsonObject().put(POINTS, points);
        if (blob != null) {
            json.put(BLOB, blob);
        }
        return json;
    }

    /**
     * Read back from an issue's details. Earlier versions recorded a search's finding as {@code
     * points: true}: read as one point.
     */
    public static DeleteLeftovers fromJson(JsonObject details) {
        Object points = details.getValue(POINTS);
        int count = points instanceof Number n ? n.intValue() : points instanceof Boolean b ? (b ? 1 : 0) : 1;
        return new DeleteLeftovers(details.getValue(BLOB) instanceof Boolean b ? b : null, count);
    }

    /** Whether the blob may still be there (unknown counts as there: the repair looks before it moves it). */
    public boolean blobMayRemain() {
        return blob == null || blob;
    }
}
