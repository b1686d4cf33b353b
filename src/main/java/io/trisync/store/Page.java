package io.trisync.store;

import java.util.List;

/**
 * One page of a listing and where the next one starts: {@code next} is null on the last page. The
 * token is opaque to callers (a file id, an S3 continuation token, a Qdrant point id). {@code
 * foreign}: how many entries the store held in the page's range that this service did not write,
 * left out of {@code items} (points of another program in a scroll; 0 elsewhere).
 */
public record Page<T>(List<T> items, String next, int foreign) {

    public Page(List<T> items, String next) {
        this(items, next, 0);
    }

    public boolean last() {
        return next == null;
    }
}
