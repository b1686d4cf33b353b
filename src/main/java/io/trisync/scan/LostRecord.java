package io.trisync.scan;

import io.trisync.store.IngestOperation;
import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * Whether an orphan object's record can be rebuilt (pure: no I/O), and from what. An object at a
 * file's key with no record is either left behind (quarantined) or the content of a file whose
 * record was lost by hand (a mistake, a bad migration): then its committed upload in the operation
 * log still says what the record held (name, content type, size, sha256), and the object holds the
 * bytes that upload verified. Only then is the record rebuilt: the file's last operation kept (undone
 * ones aside) is its upload, committed; no delete or new version followed; the object's size and
 * {@code sha256} metadata are the upload's. The object's own user metadata holds only its {@code
 * sha256} (and S3 its content type), never the file's name, so once retention removed the upload
 * (docs/design.md, "Ingest (issue 3)") no truthful record can be made and the object is quarantined
 * as before. Written into the {@code ORPHAN_BLOB} issue's details by a scan ({@link #FIELD}), read
 * back by the repair planner.
 *
 * @param operation the committed upload's id, or null when the record cannot be rebuilt
 * @param refused why not (null when it can)
 */
public record LostRecord(String operation, String name, String contentType, long size, String sha256, String refused) {

    /** The field of an {@code ORPHAN_BLOB} issue's details holding this judgement. */
    public static final String FIELD = "restore";

    private static final String OPERATION = "operation";
    private static final String NAME = "name";
    private static final String CONTENT_TYPE = "contentType";
    private static final String SIZE = "size";
    private static final String SHA256 = "sha256";
    private static final String REFUSED = "refused";

    /** Whether the record can be rebuilt from {@link #operation}. */
    public boolean restorable() {
        return operation != null && refused == null;
    }

    /**
     * Judges the orphan object of {@code fileId} in {@code tenantId}: {@code operations} are the file's
     * operations kept in the log, oldest first; {@code size} and {@code sha256} the object's (a HEAD's
     * size and its {@code sha256} user metadata, null when it has none).
     */
    public static LostRecord judge(
            String tenantId, String fileId, List<IngestOperation> operations, long size, String sha256) {
        IngestOperation last = IngestOperation.lastKept(operations, tenantId);
        if (last == null) {
            return refused("no upload of file " + fileId + " is kept in the operation log (operations are kept"
                    + " RETENTION_INGEST_OPERATIONS_DAYS after they end) and the object's metadata holds no file"
                    + " name: no truthful record can be rebuilt; the object is quarantined");
        }
        if (last.unreadable() != null) {
            // It may be a delete, or the upload with other bytes: nothing is rebuilt from a guess.
            return refused("operation " + last.id() + " of the file in the operation log cannot be read (its field "
                    + last.unreadable() + " holds a value this service never writes): what the file last became is"
                    + " not known and no record is rebuilt; the object is quarantined");
        }
        if (last.kind() == IngestOperation.Kind.DELETE) {
            return refused("the file was deleted (operation " + last.id() + "); the object is quarantined");
        }
        if (last.kind() == IngestOperation.Kind.REPLACE) {
            return refused("the file was given a new version (operation " + last.id()
                    + "): its record held a history its upload does not tell; the object is quarantined");
        }
        boolean committed = last.step() == IngestOperation.Step.COMMITTED || last.step() == IngestOperation.Step.DONE;
        if (!committed) {
            return refused("its upload (operation " + last.id() + ") has not committed");
        }
        if (size != last.size() || sha256 == null || !sha256.equals(last.sha256())) {
            return refused("the object (" + size + " bytes, sha256 " + sha256 + ") is not the content its upload"
                    + " (operation " + last.id() + ") committed (" + last.size() + " bytes, sha256 " + last.sha256()
                    + "); the object is quarantined");
        }
        return new LostRecord(last.id(), last.name(), last.contentType(), last.size(), last.sha256(), null);
    }

    private static LostRecord refused(String why) {
        return new LostRecord(null, null, null, 0, null, why);
    }

    public JsonObject toJson() {
        return restorable()
                ? new JsonObject()
                        .put(OPERATION, operation)
                        .put(NAME, name)
                        .put(CONTENT_TYPE, contentType)
                        .put(SIZE, size)
                        .put(SHA256, sha256)
                : new JsonObject().put(REFUSED, refused);
    }

    /** The judgement an issue's {@code details} hold, or null when they hold none (a scan before it was made). */
    public static LostRecord of(JsonObject details) {
        JsonObject json = details == null ? null : details.getJsonObject(FIELD);
        if (json == null) {
            return null;
        }
        return new LostRecord(
                json.getString(OPERATION),
                json.getString(NAME),
                json.getString(CONTENT_TYPE),
                json.getLong(SIZE, 0L),
                json.getString(SHA256),
                json.getString(REFUSED));
    }
}
