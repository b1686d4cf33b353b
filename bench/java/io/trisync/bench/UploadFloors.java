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
import io.vertx.ext.mongo.UpdateOptions;
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
import java.util.Locale;
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

    /**
     * Upload {@code i}'s minimal writes one after the other with the raw clients: an intent record,
     * the 4 KiB blob, the metadata document, the chunks' points, the commit and one event.
     */
    static IntFunction<Future<?>> oneAtATime(Stores stores, MongoClient mongo) {
        float[] vector = new float[MiniLmEmbeddingModel.DIMENSION];
        vector[0] = 1;
        String sha = "0".repeat(64);
        return i -> {
            String id = String.format("minimal-%08d", i);
            int partition = StoreKeys.partition(id, StoreFloorsBench.PARTITIONS);
            JsonObject intent = intent(id, sha);
            List<ChunkPoint> points = points(id, partition, sha, vector);
            return mongo.insert("floor_ops", intent)
                    .compose(v -> stores.blobs()
                            .putBytes(
                                    StoreKeys.blobKey("floor", partition, id),
                                    Buffer.buffer(IngestBench.text4k(i)),
                                    "text/plain",
                                    Map.of("sha256", sha)))
                    .compose(v -> mongo.replaceDocumentsWithOptions(
                            "floor_files",
                            new JsonObject().put("_id", id),
                            intent.copy().put("status", "ACTIVE").put("name", id + ".txt"),
                            new UpdateOptions().setUpsert(true)))
                    .compose(v -> stores.vectors().upsert(points))
                    .compose(v -> mongo.updateCollection(
                            "floor_ops",
                            new JsonObject().put("_id", id),
                            new JsonObject().put("$set", new JsonObject().put("step", "COMMITTED"))))
                    .compose(v -> mongo.insert(
                            "floor_events",
                            new JsonObject()
                                    .put("_id", "floor:" + i)
                                    .put("type", "file.uploaded")
                                    .put("fileId", id)));
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
        out.add("CPU per file (process CPU time of the measured window, all threads; " + cores + " cores):");
        readings.forEach((what, r) -> out.add(String.format(
                Locale.ROOT,
                "  %-62s %6.2f ms CPU/file  %,7.0f files/s  (cores ÷ CPU: %,7.0f files/s)",
                what,
                r.cpuMsPerItem(),
                r.perSecond(),
                cores * 1000 / r.cpuMsPerItem())));
        for (String mode : List.of("in-memory", "persistent")) {
            Reading receive = readings.get(mode + ", HTTP receive alone");
            Reading batched = readings.get(mode + ", minimal upload writes, " + BATCH + " uploads a round trip");
            Reading floor = readings.get(mode + ", minimal upload writes, one at a time");
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
