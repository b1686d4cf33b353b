package io.trisync.store;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.trisync.config.TrisyncConfig;
import io.trisync.failure.Failure;
import io.trisync.metrics.Metrics;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.async.AsyncRequestBody;
import software.amazon.awssdk.core.async.AsyncResponseTransformer;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.exception.ApiCallTimeoutException;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.http.nio.netty.NettyNioAsyncHttpClient;
import software.amazon.awssdk.http.nio.netty.SdkEventLoopGroup;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.Delete;
import software.amazon.awssdk.services.s3.model.MetadataDirective;
import software.amazon.awssdk.services.s3.model.ObjectIdentifier;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * {@link BlobStore} on the AWS SDK v2 asynchronous S3 client (Netty transport, path-style
 * addressing so it works with MinIO and the embedded s3proxy).
 */
public final class S3BlobStore implements BlobStore {

    private static final String STORE = "s3";
    private static final int MULTIPART_CONCURRENCY = 4;
    private static final int HEAD_CONCURRENCY = 32;

    private final Vertx vertx;
    private final S3AsyncClient s3;
    /**
     * The client's own event loops, closed without Netty's default 2 s quiet period: the SDK closes
     * the group it makes itself with that period, which every node stop waited for.
     */
    private final EventLoopGroup eventLoops;

    private final String bucket;
    private final long partSize;

    public S3BlobStore(Vertx vertx, TrisyncConfig.S3Config config) {
        this(vertx, config, Metrics.none());
    }

    /** The store, every S3 call timed on {@code metrics}. */
    public S3BlobStore(Vertx vertx, TrisyncConfig.S3Config config, Metrics metrics) {
        this.vertx = vertx;
        this.bucket = config.bucket();
        this.partSize = config.multipartThresholdBytes();
        this.eventLoops = newEventLoops();
        this.s3 = S3AsyncClient.builder()
                .endpointOverride(URI.create(config.endpoint()))
                .region(Region.of(config.region()))
                .forcePathStyle(true)
                .credentialsProvider(StaticCredentialsProvider.create(
                        AwsBasicCredentials.create(config.accessKey(), config.secretKey())))
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
                .httpClientBuilder(NettyNioAsyncHttpClient.builder()
                        .eventLoopGroup(SdkEventLoopGroup.create(eventLoops))
                        .maxConcurrency(128)
                        .connectionTimeout(Duration.ofSeconds(5))
                        .connectionAcquisitionTimeout(Duration.ofSeconds(7)))
                .overrideConfiguration(
                        o -> o.apiCallTimeout(Duration.ofMinutes(5)).addExecutionInterceptor(new S3Timing(metrics)))
                .build();
    }

    /** The SDK recognises only Netty's classic NIO group (deprecated in Netty 4.2, still supported). */
    @SuppressWarnings("deprecation")
    private static EventLoopGroup newEventLoops() {
        return new NioEventLoopGroup(
                Runtime.getRuntime().availableProcessors(), new DefaultThreadFactory("trisync-s3", true));
    }

    @Override
    public Future<Void> init() {
        return ping().recover(error -> error instanceof Failure.NotFound
                ? call(s3.createBucket(b -> b.bucket(bucket)))
                        .<Void>mapEmpty()
                        .recover(e -> e instanceof Failure.Conflict ? Future.succeededFuture() : Future.failedFuture(e))
                : Future.failedFuture(error));
    }

    @Override
    public Future<BlobInfo> putFile(String key, Path file, String contentType, Map<String, String> metadata) {
        long size;
        try {
            size = Files.size(file);
        } catch (IOException e) {
            return Future.failedFuture(e);
        }
        if (size < partSize) {
            return call(s3.putObject(
                            b -> b.bucket(bucket)
                                    .key(key)
                                    .contentType(contentType)
                                    .metadata(metadata)
                                    .contentLength(size),
                            AsyncRequestBody.fromFile(file)))
                    .map(r -> new BlobInfo(key, size, r.eTag(), null, contentType, metadata));
        }
        return multipart(key, file, size, contentType, metadata);
    }

    @Override
    public Future<BlobInfo> putBytes(String key, Buffer bytes, String contentType, Map<String, String> metadata) {
        return call(s3.putObject(
                        b -> b.bucket(bucket)
                                .key(key)
                                .contentType(contentType)
                                .metadata(metadata)
                                .contentLength((long) bytes.length()),
                        AsyncRequestBody.fromBytes(bytes.getBytes())))
                .map(r -> new BlobInfo(key, bytes.length(), r.eTag(), null, contentType, metadata));
    }

    @Override
    public Future<BlobInfo> head(String key) {
        return call(s3.headObject(b -> b.bucket(bucket).key(key)))
                .map(r -> new BlobInfo(
                        key, r.contentLength(), r.eTag(), r.lastModified(), r.contentType(), Map.copyOf(r.metadata())));
    }

    @Override
    public Future<Download> open(String key) {
        Context context = vertx.getOrCreateContext();
        return call(s3.getObject(b -> b.bucket(bucket).key(key), AsyncResponseTransformer.toPublisher()))
                .map(publisher -> {
                    var r = publisher.response();
                    BlobInfo info = new BlobInfo(
                            key,
                            r.contentLength(),
                            r.eTag(),
                            r.lastModified(),
                            r.contentType(),
                            Map.copyOf(r.metadata()));
                    return new Download(info, new PublisherReadStream(context, publisher));
                });
    }

    @Override
    public Future<Download> openRange(String key, long first, long last, String etag) {
        Context context = vertx.getOrCreateContext();
        return call(s3.getObject(
                        b -> b.bucket(bucket)
                                .key(key)
                                .range("bytes=" + first + "-" + last)
                                .ifMatch(etag),
                        AsyncResponseTransformer.toPublisher()))
                .map(publisher -> {
                    var r = publisher.response();
                    BlobInfo info = new BlobInfo(
                            key,
                            wholeSize(r.contentRange(), r.contentLength()),
                            r.eTag(),
                            r.lastModified(),
                            r.contentType(),
                            Map.copyOf(r.metadata()));
                    return new Download(info, new PublisherReadStream(context, publisher));
                });
    }

    /** The whole object's size from a ranged GET's {@code Content-Range} ({@code bytes a-b/size}). */
    private static long wholeSize(String contentRange, Long rangeLength) {
        int slash = contentRange == null ? -1 : contentRange.lastIndexOf('/');
        return slash < 0 || contentRange.endsWith("*")
                ? rangeLength
                : Long.parseLong(contentRange.substring(slash + 1).strip());
    }

    @Override
    public Future<Buffer> getBytes(String key) {
        return read(key).map(Content::bytes);
    }

    @Override
    public Future<Content> read(String key) {
        return call(s3.getObject(b -> b.bucket(bucket).key(key), new WholeObject()))
                .map(r -> {
                    var response = r.response();
                    BlobInfo info = new BlobInfo(
                            key,
                            response.contentLength(),
                            response.eTag(),
                            response.lastModified(),
                            response.contentType(),
                            Map.copyOf(response.metadata()));
                    return new Content(info, Buffers.wrap(r.bytes()));
                });
    }

    @Override
    public Future<Page<BlobInfo>> list(String prefix, String token, int limit, boolean withMetadata) {
        int pageSize = Math.max(1, Math.min(limit, 1000));
        Future<Page<BlobInfo>> page = call(s3.listObjectsV2(
                        b -> b.bucket(bucket).prefix(prefix).maxKeys(pageSize).continuationToken(token)))
                .map(r -> new Page<>(
                        r.contents().stream().map(S3BlobStore::described).toList(),
                        Boolean.TRUE.equals(r.isTruncated()) ? r.nextContinuationToken() : null));
        return withMetadata ? page.compose(this::withMetadata) : page;
    }

    @Override
    public Future<List<String>> topLevelPrefixes() {
        List<String> out = new ArrayList<>();
        return prefixes(null, out).map(v -> out);
    }

    private Future<Void> prefixes(String token, List<String> out) {
        return call(s3.listObjectsV2(
                        b -> b.bucket(bucket).delimiter("/").maxKeys(1000).continuationToken(token)))
                .compose(r -> {
                    r.commonPrefixes().forEach(p -> {
                        String prefix = p.prefix();
                        out.add(prefix.endsWith("/") ? prefix.substring(0, prefix.length() - 1) : prefix);
                    });
                    return Boolean.TRUE.equals(r.isTruncated()) && r.nextContinuationToken() != null
                            ? prefixes(r.nextContinuationToken(), out)
                            : Future.succeededFuture();
                });
    }

    @Override
    public Future<DeleteResult> deleteAll(List<String> keys) {
        if (keys.size() > MAX_BATCH_DELETE) {
            return Future.failedFuture(new IllegalArgumentException(
                    "at most " + MAX_BATCH_DELETE + " keys per batch delete, got " + keys.size()));
        }
        if (keys.isEmpty()) {
            return Future.succeededFuture(new DeleteResult(List.of(), Map.of()));
        }
        List<ObjectIdentifier> ids = keys.stream()
                .map(k -> ObjectIdentifier.builder().key(k).build())
                .toList();
        return call(s3.deleteObjects(b -> b.bucket(bucket)
                        .delete(Delete.builder().objects(ids).quiet(true).build())))
                .map(r -> {
                    Map<String, String> failed = new HashMap<>();
                    r.errors().forEach(e -> failed.put(e.key(), e.code()));
                    List<String> deleted =
                            keys.stream().filter(k -> !failed.containsKey(k)).toList();
                    return new DeleteResult(deleted, failed);
                });
    }

    @Override
    public Future<Void> delete(String key) {
        return call(s3.deleteObject(b -> b.bucket(bucket).key(key))).mapEmpty();
    }

    @Override
    public Future<Void> copy(String from, String to) {
        return call(s3.copyObject(b -> b.sourceBucket(bucket)
                        .sourceKey(from)
                        .destinationBucket(bucket)
                        .destinationKey(to)))
                .mapEmpty();
    }

    @Override
    public Future<Void> copy(String from, String to, String contentType, Map<String, String> metadata) {
        return call(s3.copyObject(b -> b.sourceBucket(bucket)
                        .sourceKey(from)
                        .destinationBucket(bucket)
                        .destinationKey(to)
                        .metadataDirective(MetadataDirective.REPLACE)
                        .contentType(contentType)
                        .metadata(metadata)))
                .mapEmpty();
    }

    @Override
    public Future<Void> ping() {
        return call(s3.headBucket(b -> b.bucket(bucket))).mapEmpty();
    }

    @Override
    public Future<Void> close() {
        return vertx.executeBlocking(() -> {
            s3.close();
            eventLoops.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
            return null;
        });
    }

    private Future<BlobInfo> multipart(
            String key, Path file, long size, String contentType, Map<String, String> metadata) {
        return call(s3.createMultipartUpload(
                        b -> b.bucket(bucket).key(key).contentType(contentType).metadata(metadata)))
                .compose(created -> {
                    String uploadId = created.uploadId();
                    int parts = (int) ((size + partSize - 1) / partSize);
                    return uploadParts(key, uploadId, file, size, parts)
                            .compose(done -> call(s3.completeMultipartUpload(b ->
                                    b.bucket(bucket).key(key).uploadId(uploadId).multipartUpload(m -> m.parts(done)))))
                            .map(r -> new BlobInfo(key, size, r.eTag(), null, contentType, metadata))
                            .recover(error -> call(s3.abortMultipartUpload(
                                            b -> b.bucket(bucket).key(key).uploadId(uploadId)))
                                    .transform(ignored -> Future.failedFuture(error)));
                });
    }

    /** Uploads parts with at most {@link #MULTIPART_CONCURRENCY} in flight; completes with them in order. */
    private Future<List<CompletedPart>> uploadParts(String key, String uploadId, Path file, long size, int parts) {
        CompletedPart[] done = new CompletedPart[parts];
        List<Future<Void>> lanes = new ArrayList<>();
        int[] nextPart = {0};
        for (int lane = 0; lane < Math.min(MULTIPART_CONCURRENCY, parts); lane++) {
            lanes.add(nextPart(key, uploadId, file, size, parts, nextPart, done));
        }
        return Future.all(lanes).map(all -> List.of(done));
    }

    private Future<Void> nextPart(
            String key, String uploadId, Path file, long size, int parts, int[] nextPart, CompletedPart[] done) {
        if (nextPart[0] >= parts) {
            return Future.succeededFuture();
        }
        int index = nextPart[0]++;
        long offset = index * partSize;
        long length = Math.min(partSize, size - offset);
        AsyncRequestBody body =
                AsyncRequestBody.fromFile(f -> f.path(file).position(offset).numBytesToRead(length));
        return call(s3.uploadPart(
                        b -> b.bucket(bucket)
                                .key(key)
                                .uploadId(uploadId)
                                .partNumber(index + 1)
                                .contentLength(length),
                        body))
                .compose(r -> {
                    done[index] = CompletedPart.builder()
                            .partNumber(index + 1)
                            .eTag(r.eTag())
                            .build();
                    return nextPart(key, uploadId, file, size, parts, nextPart, done);
                });
    }

    private Future<Page<BlobInfo>> withMetadata(Page<BlobInfo> page) {
        List<BlobInfo> items = page.items();
        BlobInfo[] filled = new BlobInfo[items.size()];
        int[] next = {0};
        List<Future<Void>> lanes = new ArrayList<>();
        for (int lane = 0; lane < Math.min(HEAD_CONCURRENCY, items.size()); lane++) {
            lanes.add(headNext(items, filled, next));
        }
        return Future.all(lanes).map(all -> new Page<>(List.of(filled), page.next()));
    }

    private Future<Void> headNext(List<BlobInfo> items, BlobInfo[] filled, int[] next) {
        if (next[0] >= items.size()) {
            return Future.succeededFuture();
        }
        int index = next[0]++;
        BlobInfo listed = items.get(index);
        return head(listed.key())
                .map(h -> new BlobInfo(
                        listed.key(),
                        listed.size(),
                        listed.etag(),
                        listed.lastModified(),
                        h.contentType(),
                        h.metadata()))
                // Deleted between the listing and the HEAD: keep what the listing said, without metadata.
                .recover(e -> e instanceof Failure.NotFound ? Future.succeededFuture(listed) : Future.failedFuture(e))
                .compose(info -> {
                    filled[index] = info;
                    return headNext(items, filled, next);
                });
    }

    private static BlobInfo described(S3Object o) {
        return new BlobInfo(o.key(), o.size(), o.eTag(), o.lastModified(), null, Map.of());
    }

    private <T> Future<T> call(CompletableFuture<T> future) {
        return VertxFutures.fromCompletable(vertx.getOrCreateContext(), future, S3BlobStore::translate);
    }

    /** SDK errors as typed store errors, decided on exception types and HTTP status codes. */
    static Throwable translate(Throwable error) {
        if (error instanceof S3Exception e) {
            int status = e.statusCode();
            if (status == 404) {
                return new Failure.NotFound(
                        STORE,
                        e.awsErrorDetails() == null
                                ? "not found"
                                : e.awsErrorDetails().errorCode());
            }
            if (status == 409 || status == 412) {
                return new Failure.Conflict(STORE, "conflict (" + status + ")", e);
            }
            if (status >= 500 || status == 429) {
                return new Failure.Unavailable(STORE, "answered " + status, e);
            }
            return e;
        }
        if (error instanceof ApiCallTimeoutException || error instanceof SdkClientException) {
            return new Failure.Unavailable(STORE, "unreachable: " + error.getMessage(), error);
        }
        return error;
    }
}
