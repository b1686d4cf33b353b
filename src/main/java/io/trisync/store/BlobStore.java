package io.trisync.store;

import io.trisync.failure.Failure;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.streams.ReadStream;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * File content in one S3 bucket. Every method's future fails with {@link
 * Failure.Unavailable} when S3 cannot be reached or answers 5xx.
 */
public interface BlobStore {

    /** The most keys one {@link #deleteAll} call takes (S3's DeleteObjects limit). */
    int MAX_BATCH_DELETE = 1000;

    /** An object being read: its HEAD-like description and its bytes as a Vert.x stream with back-pressure. */
    record Download(BlobInfo info, ReadStream<Buffer> content) {}

    /** An object read whole: its description (size, content type, metadata) and its bytes. */
    record Content(BlobInfo info, Buffer bytes) {}

    /** An object's description, and the size and sha256 of its bytes as they were read. */
    record Hashed(BlobInfo info, long size, String sha256) {}

    /** Outcome of a batch delete: keys deleted and keys that failed, with S3's error code. */
    record DeleteResult(List<String> deleted, Map<String, String> failed) {}

    /** Creates the bucket when it does not exist. */
    Future<Void> init();

    /** Uploads a file, as one PUT below the multipart threshold and as a multipart upload above it. */
    Future<BlobInfo> putFile(String key, Path file, String contentType, Map<String, String> metadata);

    /** Uploads bytes held in memory with one PUT. */
    Future<BlobInfo> putBytes(String key, Buffer bytes, String contentType, Map<String, String> metadata);

    /** Size, ETag, content type and user metadata; fails with {@link Failure.NotFound} when absent. */
    Future<BlobInfo> head(String key);

    /** Opens the object for streaming; fails with {@link Failure.NotFound} when absent. */
    Future<Download> open(String key);

    /**
     * Opens bytes {@code first} to {@code last} (inclusive) of the object for streaming, only while it
     * is still the object whose ETag is {@code etag} (S3's {@code If-Match}): the download's info is
     * the object's, its size the whole object's. Fails with {@link Failure.NotFound} when absent and
     * with {@link Failure.Conflict} when the object's ETag is another one (it was replaced).
     */
    Future<Download> openRange(String key, long first, long last, String etag);

    /**
     * The size and sha256 of the object's bytes, hashed piece by piece as they stream ({@link #open}),
     * so a file of any size is checked in the memory of one piece; fails with {@link
     * Failure.NotFound} when absent.
     */
    default Future<Hashed> hash(String key) {
        return open(key).compose(download -> {
            MessageDigest digest = StoreKeys.sha256Digest();
            long[] size = {0};
            Promise<Hashed> hashed = Promise.promise();
            ReadStream<Buffer> content = download.content();
            // A read cut off part way is S3 away, as for any other call of this store (retriable).
            content.exceptionHandler(error -> hashed.tryFail(
                    error instanceof Failure
                            ? error
                            : new Failure.Unavailable(
                                    "s3", "reading " + key + " stopped: " + error.getMessage(), error)));
            content.endHandler(v -> hashed.tryComplete(
                    new Hashed(download.info(), size[0], HexFormat.of().formatHex(digest.digest()))));
            content.handler(piece -> {
                digest.update(Buffers.view(piece));
                size[0] += piece.length();
            });
            return hashed.future();
        });
    }

    /** The whole object in memory (small objects only); fails with {@link Failure.NotFound} when absent. */
    Future<Buffer> getBytes(String key);

    /** The whole object and its description in one GET; fails with {@link Failure.NotFound} when absent. */
    Future<Content> read(String key);

    /**
     * Up to {@code limit} (at most 1,000) objects under {@code prefix} in key order, starting at the
     * continuation token {@code token} (null: the first page). With {@code withMetadata} each object's
     * user metadata is fetched too (one HEAD each, in parallel).
     */
    Future<Page<BlobInfo>> list(String prefix, String token, int limit, boolean withMetadata);

    /**
     * The first segments of the keys ({@code {tenant}/...}), each once, in key order: one listing
     * request per 1,000 of them whatever the number of objects (a delimiter listing). Includes
     * trisync's own prefixes ({@code quarantine~}, a backup prefix): the caller keeps the tenants.
     */
    Future<List<String>> topLevelPrefixes();

    /** Deletes up to {@link #MAX_BATCH_DELETE} keys in one request; absent keys count as deleted. */
    Future<DeleteResult> deleteAll(List<String> keys);

    /** Deletes one key; deleting an absent key succeeds. */
    Future<Void> delete(String key);

    /** Server-side copy keeping content type and metadata; fails with {@link Failure.NotFound} when {@code from} is absent. */
    Future<Void> copy(String from, String to);

    /**
     * Server-side copy that replaces the user metadata with {@code metadata} (and sets {@code
     * contentType}); fails with {@link Failure.NotFound} when {@code from} is absent.
     */
    Future<Void> copy(String from, String to, String contentType, Map<String, String> metadata);

    /** Completes when the bucket answers a HEAD. */
    Future<Void> ping();

    /** Closes the client. */
    Future<Void> close();
}
