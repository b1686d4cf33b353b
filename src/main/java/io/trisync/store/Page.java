package io.trisync.store;

import java.util.List;

/**
 * One page of a listing and where the next one starts: {@code next} is null on the last page. The
 * token is opaque to callers (a file id, an S3 continuation token, a Qdrant point id).
 */
public record Page<T>(List<T> items, String next) {

    public boolean last() {
        return next == null;
    }
}
