package io.trisync.store;

import java.time.Instant;
import java.util.Map;

/**
 * An S3 object as a listing or a HEAD reports it. Listings carry no content type and, unless asked
 * for, no user metadata (empty map).
 */
public record BlobInfo(
        String key, long size, String etag, Instant lastModified, String contentType, Map<String, String> metadata) {

    /** The user metadata field holding the SHA-256 of the content, which trisync writes on every blob. */
    public static final String SHA256 = "sha256";

    /** The {@code sha256} user metadata trisync writes on every blob, or null. */
    public String sha256() {
        return metadata.get(SHA256);
    }
}
