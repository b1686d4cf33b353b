package io.trisync.scan;

import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;

/**
 * What each store holds for one (tenant, partition), as the reconciliation engine reads it. Plain
 * data: no store types, so the engine is tested without a server.
 */
public final class Listings {

    private Listings() {}

    /**
     * A metadata record: {@code chunks} and {@code contentSha256}/{@code model} describe its vectors;
     * {@code attention} is the reason a repair left it to a person (null: none); {@code
     * embeddingFailure} is why its text could not be extracted at ingest (null: none); {@code
     * indexing} is {@link #PENDING} while its vectors wait in the index queue, {@link #LOST} when the
     * record says they are pending but no queue entry makes them, null otherwise. {@code unreadable}
     * names the field that made the record unreadable (its {@code status} is none this service
     * writes; null: the record was read), and then only the record's id is to be trusted.
     */
    public record Meta(
            String fileId,
            String name,
            boolean deleted,
            long size,
            String sha256,
            int chunks,
            String contentSha256,
            String model,
            String attention,
            String embeddingFailure,
            String indexing,
            String unreadable) {

        public static final String PENDING = "pending";
        public static final String LOST = "lost";

        /** This record with {@code state} ({@link #PENDING}, {@link #LOST}) as its embedding's indexing. */
        public Meta withIndexing(String state) {
            return new Meta(
                    fileId,
                    name,
                    deleted,
                    size,
                    sha256,
                    chunks,
                    contentSha256,
                    model,
                    attention,
                    embeddingFailure,
                    state,
                    unreadable);
        }

        /** A record that could not be read: its {@code field} is none this service writes. */
        public static Meta unreadable(String fileId, String name, String field) {
            return new Meta(fileId, name, false, 0, null, 0, null, null, null, null, null, field);
        }

        public Meta(
                String fileId,
                String name,
                boolean deleted,
                long size,
                String sha256,
                int chunks,
                String contentSha256,
                String model,
                String attention,
                String embeddingFailure) {
            this(
                    fileId,
                    name,
                    deleted,
                    size,
                    sha256,
                    chunks,
                    contentSha256,
                    model,
                    attention,
                    embeddingFailure,
                    null,
                    null);
        }

        public Meta(
                String fileId,
                String name,
                boolean deleted,
                long size,
                String sha256,
                int chunks,
                String contentSha256,
                String model) {
            this(fileId, name, deleted, size, sha256, chunks, contentSha256, model, null, null, null, null);
        }
    }

    /**
     * An S3 object of the partition; {@code sha256} from its metadata (or recomputed in a deep scan), may
     * be null; {@code version}: which object it was (null when not known).
     */
    public record Blob(String fileId, long size, String sha256, Version version) {

        public Blob(String fileId, long size, String sha256) {
            this(fileId, size, sha256, null);
        }
    }

    /**
     * Which object a key held when it was read: its ETag (without quotes), size and last-modified time
     * (to the second, as a HEAD gives it). A write of the key changes it; bytes decaying in place do not.
     */
    public record Version(String etag, long size, String lastModified) {

        /** The JSON field names. */
        public static final String ETAG = "etag";

        public static final String SIZE = "size";
        public static final String LAST_MODIFIED = "modified";

        /** The version of an object listed or looked at with {@code etag}, {@code size}, {@code lastModified}. */
        public static Version of(String etag, long size, Instant lastModified) {
            if (etag == null || etag.isEmpty() || lastModified == null) {
                return null;
            }
            String bare = etag.startsWith("\"") && etag.endsWith("\"") && etag.length() >= 2
                    ? etag.substring(1, etag.length() - 1)
                    : etag;
            return new Version(
                    bare, size, lastModified.truncatedTo(ChronoUnit.SECONDS).toString());
        }

        public JsonObject toJson() {
            return new JsonObject().put(ETAG, etag).put(SIZE, size).put(LAST_MODIFIED, lastModified);
        }

        /** The version in {@code json}, or null when it names none. */
        public static Version fromJson(JsonObject json) {
            if (json == null || json.getString(ETAG) == null || json.getString(LAST_MODIFIED) == null) {
                return null;
            }
            return new Version(json.getString(ETAG), json.getLong(SIZE, -1L), json.getString(LAST_MODIFIED));
        }
    }

    /** A Qdrant point of the partition. */
    public record Point(String fileId, int chunk, String contentSha256, String model) {}

    /** The three listings of one partition. */
    public record Partition(List<Meta> metadata, List<Blob> blobs, List<Point> points) {}
}
