package io.trisync.scan;

/** A file's overall state (the seeds' statuses). The engine gives SYNCED, OUT_OF_SYNC or MISSING; ERROR is set by repair when a file needs a person. */
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
