package io.trisync.events;

/** The {@code type} of every event (the README names each where it describes the capability that publishes it). */
public final class EventTypes {

    public static final String FILE_UPLOADED = "file.uploaded";
    public static final String FILE_DELETED = "file.deleted";
    /** A file's name or labels were edited: {@code data} {@code name}, {@code labels}, {@code version}, {@code by}. */
    public static final String FILE_UPDATED = "file.updated";

    public static final String EMBEDDING_CREATED = "embedding.created";
    /**
     * An upload was stored but its text could not be extracted, so it has no vectors (it is not
     * searchable); published instead of {@link #EMBEDDING_CREATED}. {@code data}: {@code reason}, {@code model}.
     */
    public static final String EMBEDDING_FAILED = "embedding.failed";

    public static final String EMBEDDING_DELETED = "embedding.deleted";
    /** An upload was stored while the embedding service was unavailable: its vectors follow from the index queue. */
    public static final String EMBEDDING_PENDING = "embedding.pending";
    /** A search left out hits the stores disagree on (how many, of which issue types): drift a user would have hit. */
    public static final String SEARCH_EXCLUDED = "search.excluded";

    public static final String ISSUE_DETECTED = "sync.issue_detected";
    public static final String ISSUE_RESOLVED = "sync.issue_resolved";
    /** A repair could not fix an issue, or left it to a person; {@code data.reason} says why. */
    public static final String ISSUE_FAILED = "sync.issue_failed";

    public static final String OP_STARTED = "sync.op_started";
    public static final String OP_PROGRESS = "sync.op_progress";
    public static final String OP_COMPLETED = "sync.op_completed";
    public static final String OP_FAILED = "sync.op_failed";

    private EventTypes() {}
}
