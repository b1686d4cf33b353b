package io.trisync.scan;

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
}
