package io.trisync.ingest;

/** Event-bus addresses owned by {@link IngestVerticle}; all point-to-point requests. */
public final class IngestAddresses {

    /** Sent by the HTTP node receiving an upload; records the operation and allots the file id and blob key. */
    public static final String BEGIN_UPLOAD = "trisync.ingest.upload.begin";

    /**
     * Sent by the HTTP node receiving a new version of a file's content ({@link
     * IngestMessages.BeginReplace}); records the operation and allots the staging key. Completed,
     * aborted and settled like an upload.
     */
    public static final String BEGIN_REPLACE = "trisync.ingest.replace.begin";

    /** Sent by the HTTP node once the blob is in S3; writes metadata and vectors, commits, replies with the file. */
    public static final String COMPLETE_UPLOAD = "trisync.ingest.upload.complete";

    /**
     * Sent by the HTTP node with the uploads whose blobs it wrote at about the same moment ({@link
     * IngestMessages.CompleteUploads}, a cohort): completes each as {@link #COMPLETE_UPLOAD} does,
     * together, so their writes share round trips; replies with each one's outcome ({@link
     * IngestMessages.Completions}).
     */
    public static final String COMPLETE_UPLOADS = "trisync.ingest.upload.complete-all";

    /** Sent by the HTTP node when it could not write the blob; undoes the operation. */
    public static final String ABORT_UPLOAD = "trisync.ingest.upload.abort";

    /**
     * Sent by the HTTP node when the node completing an upload left the cluster before answering:
     * runs recovery, then replies with the file if the upload had committed, or fails 503 if it is
     * undone (or will be, once its lease runs out).
     */
    public static final String SETTLE_UPLOAD = "trisync.ingest.upload.settle";

    /** Sent by the HTTP API; deletes a file from the three stores, replies deleted or still deleting. */
    public static final String DELETE = "trisync.ingest.delete";
    /** Edit a file's name or labels, conditioned on its version: {@link IngestMessages.EditFile}. */
    public static final String EDIT = "trisync.ingest.edit";
    /** Erase a tenant from the three stores: {@link IngestMessages.EraseTenant}; answers with the operation. */
    public static final String ERASE = "trisync.ingest.erase";
    /** A tenant's erasure: its state, operation and result ({@link IngestMessages.EraseTenant}, actor unused). */
    public static final String ERASURE = "trisync.ingest.erasure";

    /** Sent by the HTTP API; replies with one file's record. */
    public static final String GET_FILE = "trisync.ingest.file.get";

    /** Sent by the HTTP API; replies with a page of a tenant's files, newest first. */
    public static final String LIST_FILES = "trisync.ingest.file.list";

    /** Sent by tests and operators; runs one recovery sweep now and replies with how many operations it ended. */
    public static final String RECOVER = "trisync.ingest.recover";

    private IngestAddresses() {}
}
