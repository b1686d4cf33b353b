package io.trisync.bench;

import static io.trisync.bench.BenchSupport.perSecond;

import com.google.common.util.concurrent.FutureCallback;
import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.MoreExecutors;
import io.qdrant.client.PointIdFactory;
import io.qdrant.client.QdrantClient;
import io.qdrant.client.ValueFactory;
import io.qdrant.client.VectorsFactory;
import io.qdrant.client.grpc.Points;
import io.qdrant.client.grpc.Points.PointStruct;
import io.qdrant.client.grpc.Points.UpsertPoints;
import io.trisync.embedding.MiniLmEmbeddingModel;
import io.trisync.events.EventPublisher;
import io.trisync.ingest.Receiver;
import io.trisync.store.Actor;
import io.trisync.store.ChunkPoint;
import io.trisync.store.FileRecord;
import io.trisync.store.IngestOperation;
import io.trisync.store.StoreKeys;
import io.trisync.store.Stores;
import io.trisync.testsupport.MultipartBody;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.BulkOperation;
import io.vertx.ext.mongo.MongoClient;
import io.vertx.ext.mongo.UpdateOptions;
import io.vertx.ext.web.FileUpload;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.multipart.MultipartForm;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.function.Function;
import java.util.function.IntFunction;
import java.util.function.Supplier;

/**
 * Two more floors for the ingest comparison, to show where an upload's time goes on a machine whose
 * cores are shared by the node, its stores and the client: what receiving the upload costs without
 * any store (the HTTP request, its multipart body spooled to a file, the hash, a JSON answer), and
 * the minimal upload writes when eight uploads share each round trip (what group commit can at best
 * make of them). Every figure comes with the process CPU time per file, read around the measured
 * window: with everything in this JVM that is the whole cost of an upload on two cores.
 */
final class UploadFloors {

    /** Uploads whose writes share one round trip in the batched floor (two batches in flight: 16 uploads). */
    static final int BATCH = 8;

    /** The labels of the CPU readings (each after its mode, as {@code "persistent, " + label}). */
    static final String RECEIVE = "HTTP receive alone";

    static final String ONE_AT_A_TIME = "minimal upload writes, one at a time";
    static final String ONE_AT_A_TIME_RAW = "same, each file's points in a request (raw Qdrant client)";
    static final String PRODUCT = "trisync's own upload writes, one at a time (no HTTP)";
    static final String BATCHED = "minimal upload writes, " + BATCH + " uploads a round trip";

    /** The floors' content hash and the one unit vector every point carries. */
    private static final String SHA = "0".repeat(64);

    private static final float[] VECTOR = new float[MiniLmEmbeddingModel.DIMENSION];

    static {
        VECTOR[0] = 1;
    }

    private UploadFloors() {}

    /** The intent record of the minimal upload writes: the operation, before anything else is written. */
    private static JsonObject intent(String id) {
        return new JsonObject()
                .put("_id", id)
                .put("tenantId", "floor")
                .put("step", "BEGUN")
                .put("size", 4096)
                .put("sha256", SHA);
    }

    /** The points of a 4 KiB text (4 chunks), all with the one unit vector. */
    private static List<ChunkPoint> points(String id, int partition) {
        List<ChunkPoint> points = new ArrayList<>();
        for (int c = 0; c < 4; c++) {
            points.add(ChunkPoint.of("floor", id, c, partition, SHA, "precomputed", VECTOR));
        }
        return points;
    }

    /** The metadata document the floors write for upload {@code id}. */
    private static JsonObject record(JsonObject intent, String id) {
        return intent.copy().put("status", "ACTIVE").put("name", id + ".txt");
    }

    /** The update that commits an upload. */
    private static JsonObject commit() {
        return new JsonObject().put("$set", new JsonObject().put("step", "COMMITTED"));
    }

    /** The event of upload {@code i} ({@code id}), under the floor's {@code tag}. */
    private static JsonObject event(String tag, int i, String id) {
        return new JsonObject()
                .put("_id", tag + ":" + i)
                .put("type", "file.uploaded")
                .put("fileId", id);
    }

    /** Upload {@code id}'s blob put, the 4 KiB text {@code i}. */
    private static Future<?> blob(Stores stores, int partition, String id, int i) {
        return stores.blobs()
                .putBytes(
                        StoreKeys.blobKey("floor", partition, id),
                        Buffer.buffer(IngestBench.text4k(i)),
                        "text/plain",
                        Map.of("sha256", SHA));
    }

    /** Process CPU time so far, in nanoseconds (every thread of this JVM: the stores run here too). */
    static long cpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }

    /**
     * A measured rate, the CPU milliseconds spent per item while it ran (every thread of the process),
     * and how many of those the JIT compiler threads spent.
     */
    /**
     * A measured run: its rate, CPU per item (all threads; the JIT compiler's part apart) and each
     * item's latency in nanoseconds (empty where none was taken).
     */
    record Reading(double perSecond, double cpuMsPerItem, double jitMsPerItem, long[] latencies) {

        Reading(double perSecond, double cpuMsPerItem, double jitMsPerItem) {
            this(perSecond, cpuMsPerItem, jitMsPerItem, new long[0]);
        }

        /** Readings of equal item counts taken one after another, as one: rate over their summed time. */
        static Reading sum(List<Reading> slices) {
            double seconds = 0;
            double cpu = 0;
            double jit = 0;
            long[] all =
                    new long[slices.stream().mapToInt(r -> r.latencies().length).sum()];
            int at = 0;
            for (Reading r : slices) {
                seconds += 1 / r.perSecond();
                cpu += r.cpuMsPerItem();
                jit += r.jitMsPerItem();
                System.arraycopy(r.latencies(), 0, all, at, r.latencies().length);
                at += r.latencies().length;
            }
            int n = slices.size();
            return new Reading(n / seconds, cpu / n, jit / n, all);
        }

        /** The latency at {@code quantile} (0..1) in milliseconds; NaN when none was taken. */
        double latencyMs(double quantile) {
            if (latencies.length == 0) {
                return Double.NaN;
            }
            long[] sorted = latencies.clone();
            Arrays.sort(sorted);
            return sorted[Math.min(sorted.length - 1, (int) Math.ceil(quantile * sorted.length) - 1)] / 1e6;
        }
    }

    /**
     * Runs {@code op} over {@code n} items at {@code concurrency} and reads its rate, CPU per item and
     * each item's latency.
     */
    static Reading measure(int n, int items, int concurrency, IntFunction<Future<?>> op) {
        long[] latencies = new long[n];
        long cpu0 = cpuNanos();
        long jit0 = BenchSupport.jitCpuNanos();
        long start = System.nanoTime();
        StoreFloorsBench.lanes(concurrency, n, i -> {
                    long sent = System.nanoTime();
                    return op.apply(i).andThen(done -> latencies[i] = System.nanoTime() - sent);
                })
                .await();
        long elapsed = System.nanoTime() - start;
        return new Reading(
                perSecond(items, elapsed),
                (cpuNanos() - cpu0) / 1e6 / items,
                (BenchSupport.jitCpuNanos() - jit0) / 1e6 / items,
                latencies);
    }

    /**
     * The same multipart uploads as the pipeline's, to a bare Vert.x server that spools the body to a
     * file (BodyHandler, as the node's upload route), hashes it on a worker thread (as the node does)
     * and answers 201 with a JSON id: the receiving half of an upload with no store behind it.
     */
    static Reading httpReceiveAlone(List<byte[]> files, int concurrency) throws Exception {
        Vertx vertx = Vertx.vertx();
        Path spool = Files.createTempDirectory("bench-receive");
        try {
            HttpServer server = bareServer(vertx, spool, null);
            WebClient client = BenchSupport.webClient(vertx, concurrency);
            try {
                IntFunction<Future<?>> upload = uploads(client, server.actualPort(), files, "f")::apply;
                // Warm-up as long as the measured run: the JIT compiles the HTTP and multipart paths.
                StoreFloorsBench.lanes(concurrency, files.size(), upload).await();
                return measure(files.size(), files.size(), concurrency, upload);
            } finally {
                client.close();
            }
        } finally {
            vertx.close().await();
        }
    }

    /**
     * A bare Vert.x server on {@code vertx} (any free port) that takes the pipeline's multipart uploads
     * at {@code POST /api/files} into {@code spool} with a BodyHandler, as the node's upload route does.
     * With {@code receiver} null it hashes each body on a worker thread and answers 201 with a JSON id;
     * else it hands each upload to {@code receiver} as the node's route does, with none of the node's
     * other handlers (time limits, access, contract, error bodies).
     */
    static HttpServer bareServer(Vertx vertx, Path spool, Receiver receiver) {
        Router router = Router.router(vertx);
        router.post("/api/files")
                .handler(BodyHandler.create(spool.toString()).setDeleteUploadedFilesOnEnd(true))
                .handler(ctx -> {
                    FileUpload file = ctx.fileUploads().get(0);
                    Future<JsonObject> answer = receiver != null
                            ? receiver.receive(new Receiver.Received(
                                    "bench",
                                    file.fileName(),
                                    "text/plain",
                                    file.size(),
                                    Path.of(file.uploadedFileName()),
                                    null,
                                    Actor.SYSTEM))
                            : vertx.executeBlocking(() ->
                                            StoreKeys.sha256Hex(Files.readAllBytes(Path.of(file.uploadedFileName()))))
                                    .map(sha -> new JsonObject()
                                            .put("id", UUID.randomUUID().toString())
                                            .put("sha256", sha));
                    answer.onSuccess(body -> ctx.response()
                                    .setStatusCode(201)
                                    .putHeader("content-type", "application/json")
                                    .end(body.encode()))
                            .onFailure(ctx::fail);
                });
        return vertx.createHttpServer()
                .requestHandler(router)
                .listen(0, "127.0.0.1")
                .await();
    }

    /**
     * Upload {@code i} as the pipeline sends it (file {@code i} of {@code files}, named {@code prefix + i}) to
     * {@code port}: a multipart form from Vert.x's web client, which sends it chunked (so the node spools it).
     */
    static IntFunction<Future<HttpResponse<Buffer>>> uploads(
            WebClient client, int port, List<byte[]> files, String prefix) {
        return i -> {
            MultipartForm form = MultipartForm.create()
                    .attribute("user_id", "bench")
                    .binaryFileUpload(
                            "file", prefix + i + ".txt", Buffer.buffer(files.get(i % files.size())), "text/plain");
            return created(client.post(port, "127.0.0.1", "/api/files").sendMultipartForm(form), i, port);
        };
    }

    /**
     * The same uploads sent whole with their {@code Content-Length}, as curl and browsers send a
     * multipart form (a 4 KiB file is then read into memory by the node, not spooled).
     */
    static IntFunction<Future<HttpResponse<Buffer>>> wholeUploads(
            WebClient client, int port, List<byte[]> files, String prefix) {
        return i -> {
            MultipartBody body = MultipartBody.of(
                    Map.of("user_id", "bench"), "file", prefix + i + ".txt", "text/plain", files.get(i % files.size()));
            return created(
                    client.post(port, "127.0.0.1", "/api/files")
                            .putHeader("Content-Type", body.contentType())
                            .sendBuffer(body.buffer()),
                    i,
                    port);
        };
    }

    private static Future<HttpResponse<Buffer>> created(Future<HttpResponse<Buffer>> sent, int i, int port) {
        return sent.compose(r -> r.statusCode() == 201
                ? Future.succeededFuture(r)
                : Future.failedFuture(
                        "upload " + i + " to port " + port + ": " + r.statusCode() + " " + r.bodyAsString()));
    }

    /**
     * The minimal upload writes (intent, blob, metadata, points, commit, event) of {@link #BATCH}
     * uploads at a time: one bulk write per MongoDB write, the blobs put at once (S3 has no batch put),
     * one Qdrant upsert of all their points; two batches in flight, so 16 uploads as in the pipeline.
     */
    static Reading batchedUploadWrites(Stores stores, MongoClient mongo, int n, String tag) {
        IntFunction<Future<?>> batch = b -> {
            List<BulkOperation> intents = new ArrayList<>();
            List<BulkOperation> records = new ArrayList<>();
            List<BulkOperation> commits = new ArrayList<>();
            List<BulkOperation> events = new ArrayList<>();
            List<ChunkPoint> points = new ArrayList<>();
            List<Supplier<Future<?>>> blobs = new ArrayList<>();
            for (int k = 0; k < BATCH; k++) {
                int i = b * BATCH + k;
                String id = String.format("%s-%08d", tag, i);
                int partition = StoreKeys.partition(id, StoreFloorsBench.PARTITIONS);
                JsonObject intent = intent(id);
                intents.add(BulkOperation.createInsert(intent));
                records.add(BulkOperation.createReplace(new JsonObject().put("_id", id), record(intent, id), true));
                commits.add(BulkOperation.createUpdate(new JsonObject().put("_id", id), commit()));
                events.add(BulkOperation.createInsert(event(tag, i, id)));
                points.addAll(points(id, partition));
                blobs.add(() -> blob(stores, partition, id, i));
            }
            return mongo.bulkWrite(tag + "_ops", intents)
                    .compose(v -> Future.all(blobs.stream().map(Supplier::get).toList()))
                    .compose(v -> mongo.bulkWrite(tag + "_files", records))
                    .compose(v -> stores.vectors().upsert(points))
                    .compose(v -> mongo.bulkWrite(tag + "_ops", commits))
                    .compose(v -> mongo.bulkWrite(tag + "_events", events));
        };
        // Warm-up, then the measured run (separate ids).
        int batches = n / BATCH;
        StoreFloorsBench.lanes(2, Math.min(batches, 1000 / BATCH), b -> batch.apply(1_000_000 / BATCH + b))
                .await();
        return measure(batches, batches * BATCH, 2, batch);
    }

    /**
     * Upload {@code i}'s minimal writes one after the other: an intent record, the 4 KiB blob, the
     * metadata document, the chunks' points, the commit and one event. The points go through
     * trisync's Qdrant adapter, whose group commit shares one upsert among the floor's concurrent
     * uploads (about three files a request at 16 clients): the floor every session before the
     * sixteenth measured.
     */
    static IntFunction<Future<?>> oneAtATime(Stores stores, MongoClient mongo) {
        return oneAtATime("minimal", stores, mongo, points -> stores.vectors().upsert(points));
    }

    /**
     * {@link #oneAtATime(Stores, MongoClient)} with each upload's points in an upsert of their own,
     * sent with the raw Qdrant client: every write one file at a time with the raw clients, as issue
     * 24 defines the floor.
     */
    static IntFunction<Future<?>> oneAtATimeRaw(
            Stores stores, MongoClient mongo, QdrantClient qdrant, String collection) {
        return oneAtATime("rawfloor", stores, mongo, points -> rawUpsert(qdrant, collection, points));
    }

    private static IntFunction<Future<?>> oneAtATime(
            String tag, Stores stores, MongoClient mongo, Function<List<ChunkPoint>, Future<?>> upsert) {
        return i -> {
            String id = String.format("%s-%08d", tag, i);
            int partition = StoreKeys.partition(id, StoreFloorsBench.PARTITIONS);
            JsonObject intent = intent(id);
            return mongo.insert("floor_ops", intent)
                    .compose(v -> blob(stores, partition, id, i))
                    .compose(v -> mongo.replaceDocumentsWithOptions(
                            "floor_files",
                            new JsonObject().put("_id", id),
                            record(intent, id),
                            new UpdateOptions().setUpsert(true)))
                    .compose(v -> upsert.apply(points(id, partition)))
                    .compose(v -> mongo.updateCollection("floor_ops", new JsonObject().put("_id", id), commit()))
                    .compose(v -> mongo.insert("floor_events", event(tag, i, id)));
        };
    }

    /** {@code points} upserted in one request of the raw Qdrant client ({@code wait}, as trisync's). */
    private static Future<?> rawUpsert(QdrantClient qdrant, String collection, List<ChunkPoint> points) {
        List<PointStruct> structs = points.stream()
                .map(p -> {
                    PointStruct.Builder b = PointStruct.newBuilder()
                            .setId(PointIdFactory.id(p.id()))
                            .setVectors(VectorsFactory.vectors(p.vector()))
                            .putPayload(ChunkPoint.TENANT_ID, ValueFactory.value(p.tenantId()))
                            .putPayload(ChunkPoint.FILE_ID, ValueFactory.value(p.fileId()))
                            .putPayload(ChunkPoint.CHUNK, ValueFactory.value(p.chunk()))
                            .putPayload(ChunkPoint.PARTITION, ValueFactory.value(p.partition()))
                            .putPayload(ChunkPoint.CONTENT_SHA256, ValueFactory.value(p.contentSha256()))
                            .putPayload(ChunkPoint.MODEL, ValueFactory.value(p.model()));
                    return b.build();
                })
                .toList();
        UpsertPoints request = UpsertPoints.newBuilder()
                .setCollectionName(collection)
                .setWait(true)
                .addAllPoints(structs)
                .build();
        Context context = Vertx.currentContext();
        Promise<Void> done = Promise.promise();
        Futures.addCallback(
                qdrant.upsertAsync(request, Duration.ofSeconds(30)),
                new FutureCallback<>() {
                    @Override
                    public void onSuccess(Points.UpdateResult result) {
                        context.runOnContext(v -> done.complete());
                    }

                    @Override
                    public void onFailure(Throwable error) {
                        context.runOnContext(v -> done.fail(error));
                    }
                },
                MoreExecutors.directExecutor());
        return done.future();
    }

    /**
     * Upload {@code i}'s writes as trisync makes them, through its own adapters and in its own
     * documents, one upload after the other, with no HTTP request, no event-bus hop and no saga around
     * them: the erasure-state read, the operation recorded (with its lease), the blob, the metadata
     * record and the chunks' points (with their text) together, the commit (if still held), the two
     * events, the operation ended. Beside the pipeline it splits an upload's cost between these writes
     * and everything else; beside the minimal floor, between trisync's writes and the least any
     * crash-safe upload must write.
     */
    static IntFunction<Future<?>> productWrites(Stores stores, EventPublisher events) {
        return i -> {
            String tenant = "product";
            String fileId = String.format("product-%08d", i);
            int partition = StoreKeys.partition(fileId, StoreFloorsBench.PARTITIONS);
            String body = IngestBench.text4k(i);
            byte[] text = body.getBytes(StandardCharsets.UTF_8);
            IngestOperation begun = IngestOperation.begin(
                    "op-" + fileId,
                    IngestOperation.Kind.UPLOAD,
                    tenant,
                    fileId,
                    partition,
                    fileId + ".txt",
                    "text/plain",
                    text.length,
                    SHA,
                    null,
                    "bench",
                    stores.incarnations().id(),
                    null);
            String holder = "upload:" + begun.id();
            IngestOperation op = begun.withLease(holder, Instant.now().plus(Duration.ofSeconds(30)));
            Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
            List<ChunkPoint> points = new ArrayList<>();
            for (int c = 0; c < 4; c++) {
                points.add(ChunkPoint.of(
                        tenant,
                        fileId,
                        c,
                        partition,
                        SHA,
                        "precomputed",
                        VECTOR,
                        body.substring(c * 1024, (c + 1) * 1024)));
            }
            return stores.erasures()
                    .get(tenant)
                    .compose(erasure -> stores.operations().begin(op))
                    .compose(v -> stores.blobs()
                            .putBytes(op.blobKey(), Buffer.buffer(text), "text/plain", Map.of("sha256", SHA)))
                    .compose(blob -> Future.join(
                            stores.metadata()
                                    .upsert(new FileRecord(
                                            fileId,
                                            tenant,
                                            op.name(),
                                            "text/plain",
                                            text.length,
                                            SHA,
                                            FileRecord.Status.ACTIVE,
                                            1,
                                            partition,
                                            new FileRecord.Embedding("precomputed", VECTOR.length, 4, SHA, null),
                                            now,
                                            now,
                                            null,
                                            blob.etag())),
                            stores.vectors().upsert(points)))
                    .compose(v -> stores.operations().advanceIfHeld(op.id(), IngestOperation.Step.COMMITTED, holder))
                    .compose(held -> events.publishAll(
                            tenant,
                            List.of(
                                    new EventPublisher.Draft(
                                            "file.uploaded",
                                            fileId,
                                            op.id(),
                                            new JsonObject()
                                                    .put("name", op.name())
                                                    .put("size", text.length)),
                                    new EventPublisher.Draft(
                                            "embedding.created",
                                            fileId,
                                            op.id(),
                                            new JsonObject().put("chunks", 4).put("model", "precomputed")))))
                    .compose(published -> stores.operations().advance(op.id(), IngestOperation.Step.DONE, null));
        };
    }

    /**
     * CPU per file of each measured row, and what that allows: with every server and client in this
     * JVM, an upload cannot go faster than the cores divided by the CPU it needs, so receiving an
     * upload (no store) plus its writes batched as well as group commit could batch them is a ceiling
     * for the pipeline on this machine.
     */
    static List<String> cpuRows(Map<String, Reading> readings) {
        List<String> out = new ArrayList<>();
        if (readings.isEmpty()) {
            return out;
        }
        int cores = Runtime.getRuntime().availableProcessors();
        out.add("");
        out.add("CPU per file (process CPU time of the measured window, all threads; in parentheses the JIT"
                + " compiler threads' part of it; " + cores + " cores):");
        readings.forEach((what, r) -> out.add(String.format(
                Locale.ROOT,
                "  %-62s %6.2f ms CPU/file (JIT %5.2f)  %,7.0f files/s  (cores ÷ CPU: %,7.0f files/s)",
                what,
                r.cpuMsPerItem(),
                r.jitMsPerItem(),
                r.perSecond(),
                cores * 1000 / r.cpuMsPerItem())));
        Set<String> modes = new LinkedHashSet<>();
        readings.keySet().stream()
                .filter(key -> key.endsWith(", " + RECEIVE))
                .forEach(key -> modes.add(key.substring(0, key.length() - RECEIVE.length() - 2)));
        for (String mode : modes) {
            Reading receive = readings.get(mode + ", " + RECEIVE);
            Reading batched = readings.get(mode + ", " + BATCHED);
            Reading floor = readings.get(mode + ", " + ONE_AT_A_TIME);
            if (receive != null && batched != null && floor != null) {
                double ceiling = cores * 1000 / (receive.cpuMsPerItem() + batched.cpuMsPerItem());
                out.add(String.format(
                        Locale.ROOT,
                        "  %s: HTTP receive + batched minimal writes need %.2f ms CPU per upload, a ceiling of %,.0f"
                                + " files/s = %.2f× the one-at-a-time floor measured (%,.0f files/s)",
                        mode,
                        receive.cpuMsPerItem() + batched.cpuMsPerItem(),
                        ceiling,
                        ceiling / floor.perSecond(),
                        floor.perSecond()));
            }
        }
        return out;
    }
}
