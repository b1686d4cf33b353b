package io.trisync.repair;

/**
 * What a repair can do to one file, the store it touches, whether it can be undone and how, and
 * whether it is safe without a person (only those run as auto-repair). Nothing here deletes a blob:
 * blobs are moved to quarantine, and only an explicit purge removes them after the retention period.
 */
public enum RepairAction {
    REEMBED(
            "qdrant",
            true,
            true,
            "Re-extract and re-embed the content from S3, upsert every chunk's point, delete points of chunks that no longer exist",
            "Derived data: the points can be rebuilt from the blob at any time"),
    DELETE_POINTS(
            "qdrant",
            true,
            true,
            "Delete every point of the file",
            "Derived data: re-embedding the blob (if any) rebuilds them"),
    DELETE_EXTRA_POINTS(
            "qdrant",
            true,
            true,
            "Delete the points of chunks the file does not have",
            "Derived data: re-embedding the blob rebuilds them"),
    QUARANTINE_BLOB(
            "s3",
            true,
            true,
            "Move the object to the quarantine prefix with the reason and date",
            "POST /api/sync/quarantine/{id}/restore puts it back byte for byte"),
    RESTORE_RECORD(
            "mongodb",
            true,
            true,
            "Rebuild the lost record of an orphan object from the file's committed upload (named in the ORPHAN_BLOB"
                    + " issue's details) once its bytes hash to the upload's sha256 and size: only if no record of the"
                    + " file exists; its points of that content are kept, missing ones re-embedded",
            "Remove the record again: the file is an orphan as before (the audit record names the upload it came"
                    + " from)"),
    RESTORE_BLOB(
            "s3",
            true,
            false,
            "Copy the content back from the backup prefix when the backup matches the recorded sha256",
            "Quarantine the restored object; the backup copy is left untouched"),
    VERIFY_CONTENT(
            "mongodb",
            true,
            false,
            "Hash the content: fix the metadata (or the object's sha256 metadata) when it matches the known version,"
                    + " restore from backup when the backup does, otherwise leave it to a person",
            "The audit record holds the values before the change"),
    FLAG_FOR_PERSON(
            "mongodb",
            true,
            false,
            "Mark the file error with the reason; its other metadata is not touched",
            "The mark clears itself when a scan finds the file whole again");

    private final String store;
    private final boolean reversible;
    private final boolean safe;
    private final String description;
    private final String undo;

    RepairAction(String store, boolean reversible, boolean safe, String description, String undo) {
        this.store = store;
        this.reversible = reversible;
        this.safe = safe;
        this.description = description;
        this.undo = undo;
    }

    public String store() {
        return store;
    }

    public boolean reversible() {
        return reversible;
    }

    /**
     * Whether auto-repair may take it without a person: re-embedding, deleting derived vectors,
     * quarantining, and rebuilding a lost record from its committed upload (the one action that keeps
     * the user's file visible; the alternative, quarantine, hides it).
     */
    public boolean safe() {
        return safe;
    }

    public String description() {
        return description;
    }

    public String undo() {
        return undo;
    }
}
