package io.trisync.http;

import io.trisync.failure.Failure;
import io.trisync.store.BlobInfo;
import io.trisync.store.BlobStore;
import io.trisync.store.FileFields;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.streams.ReadStream;
import io.vertx.ext.web.RoutingContext;
import java.util.Arrays;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers a download of a file's bytes as RFC 9110 has a client expect: the content's {@code ETag}
 * (its sha256, quoted: a strong validator of the bytes, which a rename or a label leaves as it is, so
 * a download resumed with {@code If-Range} after a metadata edit goes on; the file's own {@code ETag},
 * its record's version, changes with every edit), {@code
 * If-None-Match} answered 304 without reading S3, {@code HEAD} answered with the headers of the
 * {@code GET} from a HEAD of the object, and one byte range ({@link ByteRange}) answered 206, with
 * {@code If-Range} sending the whole instead when the client's copy is of other bytes, and {@code
 * If-Match} naming other content 412 before anything is read.
 *
 * <p>Every byte sent is normally checked against the file's recorded sha256 ({@link
 * VerifiedContent}), which needs the whole object. So a range of a file up to {@link
 * #VERIFIED_RANGE_MAX_BYTES} is served from the whole object read from S3 and hashed, the range's
 * bytes passed on and its last piece held until the hash matches, as a whole download is: a range is
 * then as trustworthy as the file. A range of a larger file is read with S3's ranged GET, which costs
 * only the range (resuming a 50 MB download does not read 50 MB again) but cannot be hashed against
 * the file: it is served only from the object a HEAD finds carrying the file's size and sha256
 * metadata, and with S3's {@code If-Match} on that object's ETag, so bytes of another object (one
 * replaced behind trisync's back) are never sent as the file's; bytes corrupted in place are not seen
 * in such a range (a client assembling a whole checks it against the file's {@code sha256}, as S3's
 * own ranged GETs carry no checksum of the part either, and a deep scan reports them). When the HEAD
 * finds another object, the Range is ignored and the whole is sent, verified.
 */
final class ContentDownload {

    private static final Logger LOG = LoggerFactory.getLogger(ContentDownload.class);

    /** The largest file a range of which is read whole from S3 and verified (8 MiB). */
    static final long VERIFIED_RANGE_MAX_BYTES = 8L * 1024 * 1024;

    /**
     * One content to send: its S3 key, the file's name (for the download), its recorded sha256 (its
     * {@code ETag}) and size, and what to say when S3 does not hold it (null: S3's own not-found).
     */
    record Served(String key, String name, String sha256, long size, String missing) {

        String etag() {
            return "\"" + sha256 + "\"";
        }
    }

    /** The headers an answer with the content carries, taken off again when its failure is answered instead. */
    private static final List<String> DOWNLOAD_HEADERS =
            List.of("Content-Length", "Content-Range", "Content-Type", "Content-Disposition", "ETag", "Accept-Ranges");

    private final BlobStore blobs;

    ContentDownload(BlobStore blobs) {
        this.blobs = blobs;
    }

    /** Answers {@code ctx} with {@code served}; fails (before anything is sent) with what the caller passes to {@code ctx.fail}. */
    Future<?> send(RoutingContext ctx, Served served) {
        String ifMatch = ctx.request().getHeader("If-Match");
        if (ifMatch != null && !match(ifMatch, served.etag())) {
            // RFC 9110 13.2.2: If-Match is evaluated first; a client that asked for these bytes only
            // (resuming a copy it checks) is told they changed instead of being sent others.
            ctx.response().putHeader("ETag", served.etag());
            return Future.failedFuture(new Failure.PreconditionFailed(
                    "If-Match " + ifMatch.strip() + " does not name the content, whose ETag is " + served.etag()));
        }
        if (noneMatch(ctx.request().getHeader("If-None-Match"), served.etag())) {
            ctx.response().setStatusCode(304).putHeader("ETag", served.etag()).end();
            return Future.succeededFuture();
        }
        if (ctx.request().method() == HttpMethod.HEAD) {
            // Range is defined for GET only (RFC 9110, 14.2): a HEAD is told of the whole.
            return missing(blobs.head(served.key()), served).onSuccess(info -> headers(ctx, served, info)
                    .putHeader("Content-Length", String.valueOf(info.size()))
                    .end());
        }
        ByteRange range = ifRange(ctx.request().getHeader("If-Range"), served.etag())
                ? ByteRange.of(ctx.request().getHeader("Range"), served.size())
                : null;
        if (range == null || !VerifiedContent.checkable(served.sha256())) {
            return whole(ctx, served);
        }
        return served.size() <= VERIFIED_RANGE_MAX_BYTES
                ? missing(blobs.open(served.key()), served).onSuccess(d -> stream(ctx, served, d, range))
                : pinnedRange(ctx, served, range);
    }

    /**
     * A range of a large file: S3's ranged GET of the object a HEAD finds carrying the file's size
     * and sha256, conditioned on that object's ETag; the whole, verified, when S3 holds another.
     */
    private Future<?> pinnedRange(RoutingContext ctx, Served served, ByteRange range) {
        return missing(blobs.head(served.key()), served).compose(info -> {
            if (info.size() != served.size() || !served.sha256().equals(info.sha256())) {
                LOG.warn(
                        "S3 holds another object than the file's under {} (size {}, sha256 {}); its range is"
                                + " refused and the whole is sent, verified",
                        served.key(),
                        info.size(),
                        info.sha256());
                return whole(ctx, served);
            }
            return blobs.openRange(served.key(), range.first(), range.last(), info.etag())
                    .onSuccess(d -> send(ctx, served, d, range, d.content()))
                    // Replaced since the HEAD (S3's If-Match failed): the whole, verified, tells which.
                    .recover(error ->
                            error instanceof Failure.Conflict ? whole(ctx, served) : Future.failedFuture(error));
        });
    }

    private Future<BlobStore.Download> whole(RoutingContext ctx, Served served) {
        return missing(blobs.open(served.key()), served).onSuccess(d -> stream(ctx, served, d, null));
    }

    /** {@code download}'s bytes, verified against the recorded sha256, the range's only when one is given. */
    private static void stream(RoutingContext ctx, Served served, BlobStore.Download download, ByteRange range) {
        String what = "file " + ctx.pathParam("file_id") + " (" + served.name() + ")";
        ReadStream<Buffer> content = VerifiedContent.checkable(served.sha256())
                ? new VerifiedContent(download.content(), served.sha256(), what, range)
                : download.content();
        send(ctx, served, download, range, content);
    }

    private static void send(
            RoutingContext ctx, Served served, BlobStore.Download download, ByteRange range, ReadStream<Buffer> bytes) {
        HttpServerResponse response = headers(ctx, served, download.info());
        if (range == null) {
            response.putHeader("Content-Length", String.valueOf(download.info().size()));
        } else {
            response.setStatusCode(206)
                    .putHeader("Content-Range", range.contentRange(served.size()))
                    .putHeader("Content-Length", String.valueOf(range.length()));
        }
        String what = "file " + ctx.pathParam("file_id") + " (" + served.name() + ")";
        bytes.pipe().endOnFailure(false).to(response).onFailure(error -> {
            if (!response.headWritten() && !response.closed()) {
                // Nothing sent yet (a range whose one piece was held for the hash): the error is
                // answered whole, with the JSON body, instead of a connection closed without a word.
                for (String header : DOWNLOAD_HEADERS) {
                    response.headers().remove(header);
                }
                ctx.fail(error);
                return;
            }
            if (response.closed()) {
                // The client went away (it had what it wanted, or gave up): nothing of trisync's failed.
                LOG.debug("Download of {} ended by its client: {}", what, error.toString());
                return;
            }
            LOG.warn("Download of {} cut short: {}", what, error.getMessage());
            response.reset();
        });
    }

    /**
     * The headers of every answer with the content: stored content is the tenant's, never a page of
     * this origin, so a browser is told not to render it here ({@code Content-Disposition:
     * attachment}), not to guess its type ({@code nosniff}) and to run nothing in it should it render
     * it anyway ({@code Content-Security-Policy: sandbox}). A stored type that is no media type (kept
     * from before types were checked) is sent as {@code application/octet-stream}.
     */
    private static HttpServerResponse headers(RoutingContext ctx, Served served, BlobInfo info) {
        String type = info.contentType();
        return ctx.response()
                .putHeader("Content-Type", FileFields.isContentType(type) ? type : "application/octet-stream")
                .putHeader("Content-Disposition", FilesApi.attachment(served.name()))
                .putHeader("X-Content-Type-Options", "nosniff")
                .putHeader("Content-Security-Policy", "sandbox; default-src 'none'")
                .putHeader("ETag", served.etag())
                .putHeader("Accept-Ranges", "bytes");
    }

    private static <T> Future<T> missing(Future<T> call, Served served) {
        return served.missing() == null
                ? call
                : call.recover(error -> Future.failedFuture(
                        error instanceof Failure.NotFound ? new Failure.NotFound("s3", served.missing()) : error));
    }

    /**
     * Whether {@code header} ({@code If-None-Match}: {@code *} or a list of entity tags) names {@code
     * etag}, compared weakly ({@code W/"3"} names {@code "3"}), as RFC 9110 (13.1.2) compares it.
     */
    static boolean noneMatch(String header, String etag) {
        if (header == null) {
            return false;
        }
        return Arrays.stream(header.split(","))
                .map(String::strip)
                .anyMatch(tag -> tag.equals("*") || tag.replaceFirst("^W/", "").equals(etag));
    }

    /**
     * Whether {@code header} ({@code If-Match}: {@code *} or a list of entity tags) names {@code etag},
     * compared strongly (RFC 9110, 13.1.1: a weak tag never matches).
     */
    static boolean match(String header, String etag) {
        return Arrays.stream(header.split(",")).map(String::strip).anyMatch(tag -> tag.equals("*") || tag.equals(etag));
    }

    /**
     * Whether a {@code Range} is to be served under {@code header} ({@code If-Range}): always without
     * one; with one, only when it is {@code etag} itself, compared strongly (RFC 9110, 13.1.5). A weak
     * tag or a date (this API sends no {@code Last-Modified}) never matches: the whole is sent.
     */
    static boolean ifRange(String header, String etag) {
        return header == null || header.strip().equals(etag);
    }
}
