package io.trisync.scan;

import io.vertx.core.json.JsonObject;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;

/**
 * What the open {@code CHECKSUM_MISMATCH} issues of a partition already know of their files' bytes:
 * the sha256 an object hashed to and which object that was ({@link Listings.Version}). A full scan
 * takes that sha256 for an object that is still the same (same ETag, size and last-modified time)
 * instead of reading its bytes again; an object written since (repaired, replaced) or one the issue
 * does not name is read again. Pure: built from the issues' details.
 */
final class KnownContent {

    /** Nothing known: every object with an open content issue is read again. */
    static final KnownContent NONE = new KnownContent(Map.of());

    private record Known(Listings.Version version, String sha256) {}

    private final Map<String, Known> byFile;

    private KnownContent(Map<String, Known> byFile) {
        this.byFile = byFile;
    }

    /** From the details of the open {@code CHECKSUM_MISMATCH} issues, by file id. */
    static KnownContent of(Map<String, JsonObject> details) {
        Map<String, Known> known = new HashMap<>();
        details.forEach((fileId, d) -> {
            Listings.Version version = Listings.Version.fromJson(d.getJsonObject(Reconciler.OBJECT));
            String sha256 = d.getString(Reconciler.ACTUAL);
            if (version != null && sha256 != null) {
                known.put(fileId, new Known(version, sha256));
            }
        });
        return new KnownContent(known);
    }

    /**
     * The sha256 the object {@code version} of file {@code fileId} is known to hold, or null when it
     * is not known: no issue names an object of the file, or it names another one.
     */
    String sha256(String fileId, Listings.Version version) {
        Known known = byFile.get(fileId);
        return known != null && Objects.equals(known.version(), version) ? known.sha256() : null;
    }
}
