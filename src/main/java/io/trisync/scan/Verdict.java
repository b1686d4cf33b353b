package io.trisync.scan;

import java.util.Collection;

/**
 * A file's overall state (the statuses the API reports). The engine gives SYNCED, OUT_OF_SYNC or MISSING, and
 * ERROR when an operation on the file failed and needs a person: its text extraction failed at
 * ingest, or a repair left it to a person.
 */
public enum Verdict {
    SYNCED("synced"),
    OUT_OF_SYNC("out_of_sync"),
    MISSING("missing"),
    ERROR("error");

    private final String wire;

    Verdict(String wire) {
        this.wire = wire;
    }

    public String wire() {
        return wire;
    }

    /**
     * The verdict of a file with {@code issues}: {@code attention} when a repair left it to a person,
     * {@code noRecord} when it has no metadata.
     */
    public static Verdict of(Collection<IssueType> issues, boolean attention, boolean noRecord) {
        if (issues.isEmpty()) {
            return SYNCED;
        }
        if (attention || issues.contains(IssueType.EMBEDDING_FAILED)) {
            return ERROR;
        }
        boolean missing = noRecord
                || issues.contains(IssueType.MISSING_BLOB)
                || issues.contains(IssueType.MISSING_VECTORS)
                || issues.contains(IssueType.MISSING_CHUNKS);
        return missing ? MISSING : OUT_OF_SYNC;
    }
}
