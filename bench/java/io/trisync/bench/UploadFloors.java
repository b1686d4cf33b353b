package io.trisync.bench;

import static io.trisync.bench.BenchSupport.perSecond;

import io.trisync.embedding.MiniLmEmbeddingModel;
import io.trisync.store.ChunkPoint;
import io.trisync.store.StoreKeys;
import io.trisync.store.Stores;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.BulkOperation;
import io.vertx.ext.mongo.MongoClient;
import io.vertx.ext.web.FileUpload;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.multipart.MultipartForm;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
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

    private UploadFloors() {}

    /** The intent record of the minimal upload writes: the operation, before anything else is written. */
    static JsonObject intent(String id, String sha) {
        return new JsonObject()
                .put("_id", id)
                .put("tenantId", "floor")
                .put("step", "BEGUN")
                .put("size", 4096)
                .put("sha256", sha);
    }

    /** The points of a 4 KiB text (4 chunks), all with {@code vector}. */
    static List<ChunkPoint> points(String id, int partition, String sha, float[] vector) {
        List<ChunkPoint> points = new ArrayList<>();
        for (int c = 0; c < 4; c++) {
            points.add(ChunkPoint.of("floor", id, c, partition, sha, "precomputed", vector));
        }
        return points;
    }

    /** Process CPU time so far, in nanoseconds (every thread of this JVM: the stores run here too). */
    static long cpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }

    /** A measured rate and the CPU milliseconds spent per item while it ran. */
    record Reading(double perSecond, double cpuMsPerItem) {}

    /** Runs {@code op} over {@code n} items at {@code concurrency} and reads its rate and CPU per item. */
    static Reading measure(int n, int items, int concurrency, IntFunction<Future<?>> op) {
        long cpu0 = cpuNanos();
        long start = System.nanoTime();
        StoreFloorsBench.lanes(concurrency, n, op).await();
        long elapsed = System.nanoTime() - start;
        return new Reading(perSecond(items, elapsed), (cpuNanos() - cpu0) / 1e6 / items);
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
            Router router = Router.router(vertx);
            router.post("/api/files")
                    .handler(BodyHandler.create(spool.toString()).setDeleteUploadedFilesOnEnd(true))
                    .handler(ctx -> {
                        FileUpload file = ctx.fileUploads().get(0);
                        vertx.executeBlocking(
                                        () -> StoreKeys.sha256Hex(Files.readAllBytes(Path.of(file.uploadedFileName()))))
                                .onSuccess(sha -> ctx.response()
                                        .setStatusCode(201)
                                        .putHeader("content-type", "application/json")
                                        .end(new JsonObject()
                                                .put("id", UUID.randomUUID().toString())
                                                .put("sha256", sha)
                                                .encode()))
                                .onFailure(ctx::fail);
                    });
            HttpServer server = vertx.createHttpServer()
                    .requestHandler(router)
                    .listen(0, "127.0.0.1")
                    .await();
            WebClient client = WebClient.create(vertx);
            try {
                IntFunction<Future<?>> upload = i -> {
                    MultipartForm form = MultipartForm.create()
                            .attribute("user_id", "bench")
                            .binaryFileUpload(
                                    "file", "f" + i + ".txt", Buffer.buffer(files.get(i % files.size())), "text/plain");
                    return client.post(server.actualPort(), "127.0.0.1", "/api/files")
                            .sendMultipartForm(form)
                            .compose(r -> r.statusCode() == 201
                                    ? Future.succeededFuture(r)
                                    : Future.failedFuture("receive " + i + ": " + r.statusCode()));
                };
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
     * The minimal upload writes (intent, blob, metadata, points, commit, event) of {@link #BATCH}
     * uploads at a time: one bulk write per MongoDB write, the blobs put at once (S3 has no batch put),
     * one Qdrant upsert of all their points; two batches in flight, so 16 uploads as in the pipeline.
     */
    static Reading batchedUploadWrites(Stores stores, MongoClient mongo, int n, String tag) {
        float[] vector = new float[MiniLmEmbeddingModel.DIMENSION];
        vector[0] = 1;
        String sha = "0".repeat(64);
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
                JsonObject intent = intent(id, sha);
                intents.add(BulkOperation.createInsert(intent));
                records.add(BulkOperation.createReplace(
                        new JsonObject().put("_id", id),
                        intent.copy().put("status", "ACTIVE").put("name", id + ".txt"),
                        true));
                commits.add(BulkOperation.createUpdate(
                        new JsonObject().put("_id", id),
                        new JsonObject().put("$set", new JsonObject().put("step", "COMMITTED"))));
                events.add(BulkOperation.createInsert(new JsonObject()
                        .put("_id", tag + ":" + i)
                        .put("type", "file.uploaded")
                        .put("fileId", id)));
                points.addAll(points(id, partition, sha, vector));
                blobs.add(() -> stores.blobs()
                        .putBytes(
                                StoreKeys.blobKey("floor", partition, id),
                                Buffer.buffer(IngestBench.text4k(i)),
                                "text/plain",
                                Map.of("sha256", sha)));
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
}
