package io.trisync.bench;

import static io.trisync.bench.BenchSupport.perSecond;
import static io.trisync.bench.BenchSupport.percentileMs;

import io.micrometer.core.instrument.Timer;
import io.qdrant.client.QdrantClient;
import io.qdrant.client.QdrantGrpcClient;
import io.trisync.Node;
import io.trisync.config.ConfigLoader;
import io.trisync.config.TrisyncConfig;
import io.trisync.embedding.Chunker;
import io.trisync.embedding.EmbeddingModel;
import io.trisync.embedding.MiniLmEmbeddingModel;
import io.trisync.events.EventPublisher;
import io.trisync.ingest.IngestHooks;
import io.trisync.ingest.Receiver;
import io.trisync.metrics.Metrics;
import io.trisync.store.Actor;
import io.trisync.store.MongoMetadataStore;
import io.trisync.store.Stores;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.MongoClient;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.multipart.MultipartForm;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Ingest over HTTP against the embedded stack, in memory and persistent: N files of 4 KiB text at
 * concurrency 16, (1) the whole pipeline with the real model, (2) the model alone, (3) the store
 * pipeline alone (a model returning a precomputed vector), beside the raw store write floors
 * measured in the same run. Prints figures; asserts nothing about time.
 */
@Tag("bench")
class IngestBench {

    static final int CONCURRENCY = Integer.getInteger("bench.ingest.concurrency", 16);

    /** CPU milliseconds per file of each measured row (process CPU, every thread: the stores run in this JVM). */
    private static final Map<String, UploadFloors.Reading> READINGS = new LinkedHashMap<>();

    /** Returns one precomputed unit vector for every chunk: the store pipeline without embedding cost. */
    static final class PrecomputedModel implements EmbeddingModel {
        private final float[] vector = new float[MiniLmEmbeddingModel.DIMENSION];

        PrecomputedModel() {
            vector[0] = 1;
        }

        @Override
        public String name() {
            return "precomputed";
        }

        @Override
        public int dimension() {
            return vector.length;
        }

        @Override
        public List<float[]> embed(List<String> texts) {
            return texts.stream().map(t -> vector).toList();
        }
    }

    @Test
    void ingest() throws Exception {
        int n = Integer.getInteger("bench.ingest.n", 2000);
        List<byte[]> files = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            files.add(text4k(i).getBytes(StandardCharsets.UTF_8));
        }
        List<String> rows = new ArrayList<>();
        rows.add(
                "| mode       | what                                   |  files | throughput        | p50 ms | p99 ms |");
        rows.add(
                "|------------|----------------------------------------|--------|-------------------|--------|--------|");
        // bench.ingest.parts: any of model, real, store, delete (after store), floors, interleaved
        // (the store pipeline and the floor taking turns on one node) (default: all but interleaved);
        // bench.ingest.modes: memory, persistent
        List<String> parts = List.of(System.getProperty("bench.ingest.parts", "model,real,store,delete,floors")
                .split(","));
        List<String> modes = List.of(
                System.getProperty("bench.ingest.modes", "memory,persistent").split(","));
        if (parts.contains("model")) {
            rows.add(embeddingAlone(files));
        }
        // bench.ingest.rounds: the parts below run this many times in the one JVM, each round's rows
        // labelled. On 2 cores the JIT is still compiling minutes into a run (the JIT column), so a
        // later round measures code closer to its steady state, and rows of one round can be compared.
        int rounds = Integer.getInteger("bench.ingest.rounds", 1);
        for (int round = 1; round <= rounds; round++) {
            rows.addAll(round(files, n, parts, modes, rounds == 1 ? "" : ", round " + round));
        }
        rows.addAll(UploadFloors.cpuRows(READINGS));
        rows.addAll(pipelineToFloor());
        String report = String.join("\n", rows);
        System.out.println(
                "\n=== Ingest, N=" + n + " files of 4 KiB, concurrency " + CONCURRENCY + " ===\n" + report + "\n");
        Files.createDirectories(Path.of("target/bench"));
        Files.writeString(Path.of("target/bench/ingest.md"), report + "\n");
    }

    /** One round of the HTTP, store and floor parts in the modes asked for; {@code label} names the round. */
    private static List<String> round(List<byte[]> files, int n, List<String> parts, List<String> modes, String label)
            throws Exception {
        List<String> rows = new ArrayList<>();
        for (boolean persist : new boolean[] {false, true}) {
            if (!modes.contains(persist ? "persistent" : "memory")) {
                continue;
            }
            String mode = (persist ? "persistent" : "in-memory") + label;
            if (parts.contains("real")) {
                rows.addAll(httpIngest(
                        files, persist, MiniLmEmbeddingModel.shared(), mode, "HTTP upload, real model", false));
            }
            if (parts.contains("store")) {
                rows.addAll(httpIngest(
                        files, persist, new PrecomputedModel(), mode, STORE_PIPELINE, parts.contains("delete")));
            }
            if (parts.contains("interleaved")) {
                rows.addAll(interleaved(files, persist, mode));
            }
            if (parts.contains("floors")) {
                rows.addAll(floors(n, persist, mode));
                UploadFloors.Reading receive = UploadFloors.httpReceiveAlone(files, CONCURRENCY);
                READINGS.put(mode + ", " + UploadFloors.RECEIVE, receive);
                rows.add(String.format(
                        Locale.ROOT,
                        "| %-10s | floor: %-31s | %6d | %,9.0f files/s  |        |        |",
                        mode,
                        "HTTP receive, no store",
                        files.size(),
                        receive.perSecond()));
            }
        }
        return rows;
    }

    /** Slices each row of {@link #interleaved} is measured in, taking turns. */
    static final int SLICES = 8;

    /**
     * On one node, in {@link #SLICES} slices that take turns, each row's slices summed: the store
     * pipeline over HTTP (Vert.x's client, which sends multipart chunked: the node spools it); the same
     * uploads sent whole with their length, as curl sends them (the node holds them in memory); the same
     * uploads to a bare Vert.x server on the node that hands them to the
     * node's {@link Receiver} (the node's HTTP handlers left out); the same uploads handed to the
     * {@code Receiver} from spooled files (no HTTP); and the one-at-a-time minimal upload writes (the
     * floor). Rows measured one after the other see a JIT that has compiled more by the later one (on
     * 2 cores it is still compiling minutes into a run), which favours whichever comes last; taking
     * turns gives every row the same compiled code on average. The pipeline's ratio to the floor is
     * printed slice by slice too, so a trend across the run shows.
     */
    private static List<String> interleaved(List<byte[]> files, boolean persist, String mode) throws Exception {
        Node node = Node.start(config(persist), false, IngestHooks.NONE, new PrecomputedModel())
                .await();
        WebClient client = BenchSupport.webClient(node.vertx(), CONCURRENCY);
        MongoClient mongo = MongoClient.create(
                node.vertx(), MongoMetadataStore.clientConfig(node.config().mongo()));
        Path spool = Files.createTempDirectory("bench-interleaved");
        Receiver receiver = receiverOf(node);
        HttpServer bare = UploadFloors.bareServer(node.vertx(), spool, receiver);
        QdrantClient qdrant = new QdrantClient(QdrantGrpcClient.newBuilder(
                        node.config().qdrant().host(), node.config().qdrant().port(), false)
                .build());
        try {
            Map<String, IntFunction<Future<?>>> rows = new LinkedHashMap<>();
            rows.put(STORE_PIPELINE, UploadFloors.uploads(client, node.httpPort(), files, "i")::apply);
            rows.put(WHOLE_PIPELINE, UploadFloors.wholeUploads(client, node.httpPort(), files, "w")::apply);
            rows.put(
                    "same, to a bare server handing them to the Receiver",
                    UploadFloors.uploads(client, bare.actualPort(), files, "b")::apply);
            rows.put(RECEIVER_DIRECT, spooledUploads(receiver, files, spool));
            IntFunction<Future<?>> floor = UploadFloors.oneAtATime(node.stores(), mongo);
            rows.put(UploadFloors.ONE_AT_A_TIME, floor);
            rows.put(
                    UploadFloors.ONE_AT_A_TIME_RAW,
                    UploadFloors.oneAtATimeRaw(
                            node.stores(), mongo, qdrant, node.config().qdrant().collection()));
            warmUp(client, node, Integer.getInteger("bench.ingest.warmup", 3000));
            for (IntFunction<Future<?>> row : rows.values()) {
                StoreFloorsBench.lanes(CONCURRENCY, 1000, i -> row.apply(20_000_000 + i))
                        .await();
            }
            int slice = files.size() / SLICES;
            Map<String, List<UploadFloors.Reading>> slices = new LinkedHashMap<>();
            Map<String, Map<String, Double>> requests = new LinkedHashMap<>();
            Map<String, double[]> stages = new LinkedHashMap<>();
            List<String> ratios = new ArrayList<>();
            List<Double> sliceRatios = new ArrayList<>();
            List<String> rawRatios = new ArrayList<>();
            List<Double> rawSliceRatios = new ArrayList<>();
            for (int k = 0; k < SLICES; k++) {
                int base = k * slice;
                rows.forEach((what, row) -> {
                    Map<String, Double> before = storeRequests(node);
                    Map<String, double[]> stagesBefore = stageTimes(node);
                    slices.computeIfAbsent(what, w -> new ArrayList<>())
                            .add(UploadFloors.measure(slice, slice, CONCURRENCY, i -> row.apply(base + i)));
                    Map<String, Double> made = requests.computeIfAbsent(what, w -> new TreeMap<>());
                    storeRequests(node)
                            .forEach((key, n) -> made.merge(key, n - before.getOrDefault(key, 0.0), Double::sum));
                    if (what.equals(STORE_PIPELINE)) {
                        stageTimes(node).forEach((stage, now) -> {
                            double[] then = stagesBefore.getOrDefault(stage, new double[2]);
                            double[] sum = stages.computeIfAbsent(stage, s -> new double[2]);
                            sum[0] += now[0] - then[0];
                            sum[1] += now[1] - then[1];
                        });
                    }
                });
                double ratio = slices.get(STORE_PIPELINE).get(k).perSecond()
                        / slices.get(UploadFloors.ONE_AT_A_TIME).get(k).perSecond();
                sliceRatios.add(ratio);
                ratios.add(String.format(Locale.ROOT, "%.2f", ratio));
                double rawRatio = slices.get(STORE_PIPELINE).get(k).perSecond()
                        / slices.get(UploadFloors.ONE_AT_A_TIME_RAW).get(k).perSecond();
                rawSliceRatios.add(rawRatio);
                rawRatios.add(String.format(Locale.ROOT, "%.2f", rawRatio));
            }
            System.out.println("Upload stages, mean ms (" + mode + ", interleaved: " + STORE_PIPELINE + "): "
                    + String.join(
                            ", ",
                            stages.entrySet().stream()
                                    .map(e -> String.format(
                                            Locale.ROOT,
                                            "%s %.2f",
                                            e.getKey(),
                                            e.getValue()[0] == 0 ? 0 : e.getValue()[1] / e.getValue()[0]))
                                    .toList()));
            requests.forEach((what, made) -> System.out.println("Store requests per upload (" + mode + ", interleaved: "
                    + what + "): " + requestsPerUpload(Map.of(), made, slice * SLICES)));
            List<String> out = new ArrayList<>();
            slices.forEach((what, readings) -> {
                UploadFloors.Reading sum = UploadFloors.Reading.sum(readings);
                READINGS.put(mode + ", interleaved: " + what, sum);
                out.add(String.format(
                        Locale.ROOT,
                        "| %-10s | interleaved: %-25s | %6d | %,9.0f files/s  | %6.1f | %6.1f |",
                        mode,
                        what,
                        slice * SLICES,
                        sum.perSecond(),
                        sum.latencyMs(0.5),
                        sum.latencyMs(0.99)));
            });
            double floorRate = UploadFloors.Reading.sum(slices.get(UploadFloors.ONE_AT_A_TIME))
                    .perSecond();
            out.add(String.format(
                    Locale.ROOT,
                    "| %-10s | interleaved: pipeline ÷ floor %.2f× (slice by slice: %s; %s) |  |  |  |  |",
                    mode,
                    UploadFloors.Reading.sum(slices.get(STORE_PIPELINE)).perSecond() / floorRate,
                    String.join(", ", ratios),
                    interval(sliceRatios)));
            out.add(String.format(
                    Locale.ROOT,
                    "| %-10s | interleaved: pipeline sent whole (as curl) ÷ floor %.2f× |  |  |  |  |",
                    mode,
                    UploadFloors.Reading.sum(slices.get(WHOLE_PIPELINE)).perSecond() / floorRate));
            out.add(String.format(
                    Locale.ROOT,
                    "| %-10s | interleaved: pipeline ÷ floor with its points one file a request %.2f× (slice by"
                            + " slice: %s; %s) |  |  |  |  |",
                    mode,
                    UploadFloors.Reading.sum(slices.get(STORE_PIPELINE)).perSecond()
                            / UploadFloors.Reading.sum(slices.get(UploadFloors.ONE_AT_A_TIME_RAW))
                                    .perSecond(),
                    String.join(", ", rawRatios),
                    interval(rawSliceRatios)));
            return out;
        } finally {
            qdrant.close();
            bare.close().await();
            mongo.close();
            client.close();
            node.stop().await();
            removeSpool(spool);
        }
    }

    /**
     * The 95 % confidence interval of the geometric mean of {@code ratios} (Student's t over the
     * logarithms of the slices' ratios, which are taken in turns and so see the same machine on
     * average): whether 1.0× lies inside it says whether a run tells the pipeline and the floor apart.
     */
    static String interval(List<Double> ratios) {
        int n = ratios.size();
        double[] logs = ratios.stream().mapToDouble(Math::log).toArray();
        double mean = java.util.Arrays.stream(logs).average().orElse(0);
        double variance =
                java.util.Arrays.stream(logs).map(x -> (x - mean) * (x - mean)).sum() / Math.max(1, n - 1);
        double half = T_975[Math.min(n - 1, T_975.length - 1)] * Math.sqrt(variance / n);
        return String.format(
                Locale.ROOT,
                "geometric mean %.2f×, 95%% interval %.2f–%.2f×",
                Math.exp(mean),
                Math.exp(mean - half),
                Math.exp(mean + half));
    }

    /** Student's t, two-sided 95 %, for 1 to 10 degrees of freedom; more are given 10's (conservative). */
    private static final double[] T_975 = {Double.NaN, 12.71, 4.30, 3.18, 2.78, 2.57, 2.45, 2.36, 2.31, 2.26, 2.23};

    /**
     * Writes {@code files} into {@code spool} now and answers upload {@code i} of file {@code i} (modulo
     * their number) handed to {@code receiver} as the node's upload route hands a spooled body over.
     */
    private static IntFunction<Future<?>> spooledUploads(Receiver receiver, List<byte[]> files, Path spool)
            throws IOException {
        List<Path> paths = new ArrayList<>();
        for (int i = 0; i < files.size(); i++) {
            paths.add(Files.write(spool.resolve("upload-" + i), files.get(i)));
        }
        return i -> receiver.receive(new Receiver.Received(
                "bench",
                "d" + i + ".txt",
                "text/plain",
                files.get(i % files.size()).length,
                paths.get(i % files.size()),
                null,
                Actor.SYSTEM));
    }

    /** A {@link Receiver} of {@code node}'s, as its upload route makes one. */
    private static Receiver receiverOf(Node node) {
        return new Receiver(
                node.vertx(),
                node.stores().blobs(),
                30_000,
                node.config().ingest().answerWithinSeconds() * 1000L,
                node.stores().incarnations().id(),
                Metrics.of(node.config()));
    }

    /**
     * For each mode and round that measured both: the store pipeline's rate over the one-at-a-time
     * floor's (#24's target is 1.0), and the CPU per file of each without the JIT compiler's part.
     */
    private static List<String> pipelineToFloor() {
        List<String> out = new ArrayList<>();
        String pipeline = ", " + STORE_PIPELINE;
        READINGS.forEach((key, reading) -> {
            if (!key.endsWith(pipeline)) {
                return;
            }
            String mode = key.substring(0, key.length() - pipeline.length());
            UploadFloors.Reading floor = READINGS.get(mode + ", " + UploadFloors.ONE_AT_A_TIME);
            if (floor != null) {
                out.add(String.format(
                        Locale.ROOT,
                        "  %s: store pipeline %,.0f files/s = %.2f× the one-at-a-time floor (%,.0f files/s);"
                                + " CPU per file without the JIT's part %.2f against %.2f ms",
                        mode,
                        reading.perSecond(),
                        reading.perSecond() / floor.perSecond(),
                        floor.perSecond(),
                        reading.cpuMsPerItem() - reading.jitMsPerItem(),
                        floor.cpuMsPerItem() - floor.jitMsPerItem()));
            }
        });
        return out;
    }

    private static String embeddingAlone(List<byte[]> files) {
        Chunker chunker = new Chunker();
        List<String> chunks = new ArrayList<>();
        for (int i = 0; i < Math.min(200, files.size()); i++) {
            chunks.addAll(chunker.chunk(new String(files.get(i), StandardCharsets.UTF_8)));
        }
        EmbeddingModel model = MiniLmEmbeddingModel.shared();
        model.embed(chunks.subList(0, 16));
        long start = System.nanoTime();
        for (int i = 0; i < chunks.size(); i += 32) {
            model.embed(chunks.subList(i, Math.min(chunks.size(), i + 32)));
        }
        return String.format(
                Locale.ROOT,
                "| any        | embedding alone (batches of 32)        | %6d | %,9.0f chunks/s |        |        |",
                Math.min(200, files.size()),
                perSecond(chunks.size(), System.nanoTime() - start));
    }

    private static List<String> httpIngest(
            List<byte[]> files, boolean persist, EmbeddingModel model, String mode, String what, boolean deletes)
            throws Exception {
        Node node = Node.start(config(persist), false, IngestHooks.NONE, model).await();
        WebClient client = BenchSupport.webClient(node.vertx(), CONCURRENCY);
        long[] latencies = new long[files.size()];
        String[] ids = new String[files.size()];
        try {
            warmUp(
                    client,
                    node,
                    model instanceof PrecomputedModel ? Integer.getInteger("bench.ingest.warmup", 3000) : 100);
            Map<String, Double> requestsBefore = storeRequests(node);
            long cpu0 = UploadFloors.cpuNanos();
            long jit0 = BenchSupport.jitCpuNanos();
            long start = System.nanoTime();
            IntFunction<Future<HttpResponse<Buffer>>> upload =
                    UploadFloors.uploads(client, node.httpPort(), files, "f");
            StoreFloorsBench.lanes(CONCURRENCY, files.size(), i -> {
                        long t0 = System.nanoTime();
                        return upload.apply(i).onSuccess(r -> {
                            latencies[i] = System.nanoTime() - t0;
                            ids[i] = r.bodyAsJsonObject().getString("id");
                        });
                    })
                    .await();
            long elapsed = System.nanoTime() - start;
            READINGS.put(
                    mode + ", " + what,
                    new UploadFloors.Reading(
                            perSecond(files.size(), elapsed),
                            (UploadFloors.cpuNanos() - cpu0) / 1e6 / files.size(),
                            (BenchSupport.jitCpuNanos() - jit0) / 1e6 / files.size()));
            printRequestsPerUpload(mode, what, requestsBefore, storeRequests(node), files.size());
            List<String> rows = new ArrayList<>();
            rows.add(String.format(
                    Locale.ROOT,
                    "| %-10s | %-38s | %6d | %,9.0f files/s  | %6.1f | %6.1f |",
                    mode,
                    what,
                    files.size(),
                    perSecond(files.size(), elapsed),
                    percentileMs(latencies, 50),
                    percentileMs(latencies, 99)));
            if (model instanceof PrecomputedModel) {
                rows.add(receiverDirect(node, files, mode));
            }
            if (deletes) {
                rows.add(deleteAll(client, node, ids, mode));
            }
            return rows;
        } finally {
            client.close();
            node.stop().await();
        }
    }

    /**
     * The same uploads handed to the node's {@link Receiver} as the upload route hands them, from
     * files spooled before the window: the pipeline without its HTTP request (hash, event-bus requests,
     * the saga, indexing and every store write). Beside the HTTP pipeline and trisync's own writes
     * (floors), it splits an upload's CPU between the HTTP request, the node's work around the writes,
     * and the writes.
     */
    private static String receiverDirect(Node node, List<byte[]> files, String mode) throws Exception {
        Path spool = Files.createTempDirectory("bench-spool");
        try {
            return receiverDirect(node, files, mode, spool);
        } finally {
            removeSpool(spool);
        }
    }

    /** Deletes {@code spool} and the files in it. */
    private static void removeSpool(Path spool) throws IOException {
        try (var spooled = Files.list(spool)) {
            for (Path p : spooled.toList()) {
                Files.delete(p);
            }
        }
        Files.delete(spool);
    }

    private static String receiverDirect(Node node, List<byte[]> files, String mode, Path spool) throws Exception {
        IntFunction<Future<?>> upload = spooledUploads(receiverOf(node), files, spool);
        // Warm-up on the first half, measured on the second (distinct files, each uploaded once).
        int half = files.size() / 2;
        StoreFloorsBench.lanes(CONCURRENCY, half, upload).await();
        Map<String, Double> before = storeRequests(node);
        UploadFloors.Reading direct = UploadFloors.measure(
                files.size() - half, files.size() - half, CONCURRENCY, i -> upload.apply(half + i));
        READINGS.put(mode + ", " + RECEIVER_DIRECT, direct);
        printRequestsPerUpload(mode, RECEIVER_DIRECT, before, storeRequests(node), files.size() - half);
        return String.format(
                Locale.ROOT,
                "| %-10s | %-38s | %6d | %,9.0f files/s  |        |        |",
                mode,
                RECEIVER_DIRECT,
                files.size() - half,
                direct.perSecond());
    }

    static final String STORE_PIPELINE = "HTTP upload, store pipeline only";
    /** The store pipeline's uploads sent whole with their length, as curl sends them (the node holds them in memory). */
    static final String WHOLE_PIPELINE = "same, sent whole with its length (as curl)";

    static final String RECEIVER_DIRECT = "same, handed to the Receiver (no HTTP)";

    /** The node's store requests per upload between two readings of its request timers. */
    private static void printRequestsPerUpload(
            String mode, String what, Map<String, Double> before, Map<String, Double> after, int uploads) {
        System.out.println(
                "Store requests per upload (" + mode + ", " + what + "): " + requestsPerUpload(before, after, uploads));
    }

    /**
     * The requests made between two readings of {@link #storeRequests}, per upload: by store, each
     * with its calls in parentheses ({@code mongodb 2.61 (bulkWrite 0.70, findOne 0.02, …)}).
     */
    private static String requestsPerUpload(Map<String, Double> before, Map<String, Double> after, int uploads) {
        StringBuilder out = new StringBuilder();
        after.forEach((key, n) -> {
            if (key.contains(" ")) {
                return;
            }
            StringBuilder calls = new StringBuilder();
            after.forEach((call, m) -> {
                double per = (m - before.getOrDefault(call, 0.0)) / uploads;
                if (call.startsWith(key + " ") && per >= 0.005) {
                    calls.append(calls.length() == 0 ? "" : ", ")
                            .append(String.format(Locale.ROOT, "%s %.2f", call.substring(key.length() + 1), per));
                }
            });
            out.append(out.length() == 0 ? "" : "; ")
                    .append(String.format(Locale.ROOT, "%s %.2f", key, (n - before.getOrDefault(key, 0.0)) / uploads))
                    .append(calls.length() == 0 ? "" : " (" + calls + ")");
        });
        return out.toString();
    }

    /** Per upload stage ({@code trisync.upload.stage.duration}), in pipeline order: how many were timed, and their total ms. */
    private static Map<String, double[]> stageTimes(Node node) {
        Map<String, double[]> out = new LinkedHashMap<>();
        for (String stage : List.of("begin", "blob_put", "completion", "index", "writes", "commit", "events")) {
            Timer timer = Metrics.of(node.config())
                    .registry()
                    .find("trisync.upload.stage.duration")
                    .tag("stage", stage)
                    .timer();
            if (timer != null) {
                out.put(stage, new double[] {timer.count(), timer.totalTime(TimeUnit.MILLISECONDS)});
            }
        }
        return out;
    }

    /**
     * Requests the node's store clients have made so far (from its request timers): by store
     * ({@code mongodb}) and by store and call ({@code mongodb findOne}).
     */
    private static Map<String, Double> storeRequests(Node node) {
        Map<String, Double> out = new TreeMap<>();
        Metrics.of(node.config())
                .registry()
                .find("trisync.store.request.duration")
                .timers()
                .forEach(t -> {
                    String store = t.getId().getTag("store");
                    out.merge(store, (double) t.count(), Double::sum);
                    out.merge(store + " " + t.getId().getTag("operation"), (double) t.count(), Double::sum);
                });
        return out;
    }

    /** Deletes the uploaded files over HTTP at the bench's concurrency (the operation log holds every upload). */
    private static String deleteAll(WebClient client, Node node, String[] ids, String mode) {
        long[] latencies = new long[ids.length];
        long start = System.nanoTime();
        StoreFloorsBench.lanes(CONCURRENCY, ids.length, i -> {
                    long t0 = System.nanoTime();
                    return client.delete(node.httpPort(), "127.0.0.1", "/api/files/" + ids[i] + "?user_id=bench")
                            .send()
                            .compose(r -> r.statusCode() == 200
                                    ? Future.succeededFuture(r)
                                    : Future.failedFuture(
                                            "delete " + i + ": " + r.statusCode() + " " + r.bodyAsString()))
                            .onSuccess(r -> latencies[i] = System.nanoTime() - t0);
                })
                .await();
        return String.format(
                Locale.ROOT,
                "| %-10s | %-38s | %6d | %,9.0f files/s  | %6.1f | %6.1f |",
                mode,
                "HTTP delete of those files",
                ids.length,
                perSecond(ids.length, System.nanoTime() - start),
                percentileMs(latencies, 50),
                percentileMs(latencies, 99));
    }

    /**
     * Uploads {@code count} files at the benchmark's concurrency before anything is timed: on 2 cores
     * the JIT compiles the HTTP, S3, MongoDB and gRPC paths for tens of seconds, and a figure taken
     * during that time measures the compiler.
     */
    private static void warmUp(WebClient client, Node node, int count) {
        StoreFloorsBench.lanes(CONCURRENCY, count, i -> {
                    MultipartForm form = MultipartForm.create()
                            .attribute("user_id", "warmup")
                            .binaryFileUpload(
                                    "file", "w" + i + ".txt", Buffer.buffer(text4k(1_000_000 + i)), "text/plain");
                    return client.post(node.httpPort(), "127.0.0.1", "/api/files")
                            .sendMultipartForm(form);
                })
                .await();
    }

    /** The raw write floors of the same stores, same run: MongoDB bulk inserts, S3 puts, Qdrant upserts. */
    private static List<String> floors(int n, boolean persist, String mode) throws Exception {
        Node node = Node.start(config(persist), false).await();
        try {
            StoreFloorsBench floors = new StoreFloorsBench();
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                ids.add(String.format("floor-%08d", i));
            }
            List<String> out = new ArrayList<>();
            out.add(floorRow(mode, floors.mongoInserts(node.stores(), "floor", ids, mode)));
            out.add(floorRow(
                    mode, floors.s3Puts(node.stores(), "floor", ids, mode).get(0)));
            out.add(floorRow(mode, floors.qdrantUpserts(node.stores(), "floor", ids, mode)));
            out.addAll(minimalUploadWrites(node, n, mode));
            return out;
        } finally {
            node.stop().await();
        }
    }

    /**
     * What any crash-safe upload must at least write, done with the raw clients and no logic at
     * concurrency 16: an intent record, the 4 KiB blob, the metadata document, the chunks' points
     * (4, as a 4 KiB text makes), the commit and one event (6 calls; trisync also reads the tenant's
     * erasure state, takes the event counter and ends the operation, and shares writes of concurrent
     * uploads; the pipeline row prints its requests per upload). Also single-document MongoDB
     * inserts at the same concurrency, the write an upload makes, unlike the floor's batches of 1,000.
     */
    private static List<String> minimalUploadWrites(Node node, int n, String mode) {
        MongoClient mongo = MongoClient.create(
                node.vertx(), MongoMetadataStore.clientConfig(node.config().mongo()));
        try {
            Stores stores = node.stores();
            IntFunction<Future<?>> upload = UploadFloors.oneAtATime(stores, mongo);
            // Warm-up at the same concurrency, as for the pipeline (ids far above the measured ones).
            StoreFloorsBench.lanes(CONCURRENCY, Math.min(n, 1000), i -> upload.apply(10_000_000 + i))
                    .await();
            UploadFloors.Reading oneAtATime = UploadFloors.measure(n, n, CONCURRENCY, upload);
            double minimal = oneAtATime.perSecond();
            READINGS.put(mode + ", " + UploadFloors.ONE_AT_A_TIME, oneAtATime);
            UploadFloors.Reading batched = UploadFloors.batchedUploadWrites(stores, mongo, n, "batched");
            READINGS.put(mode + ", " + UploadFloors.BATCHED, batched);
            IntFunction<Future<?>> product = UploadFloors.productWrites(
                    stores, new EventPublisher(node.vertx().eventBus(), stores.events()));
            StoreFloorsBench.lanes(CONCURRENCY, Math.min(n, 1000), i -> product.apply(10_000_000 + i))
                    .await();
            READINGS.put(mode + ", " + UploadFloors.PRODUCT, UploadFloors.measure(n, n, CONCURRENCY, product));
            long start = System.nanoTime();
            StoreFloorsBench.lanes(
                            CONCURRENCY,
                            n,
                            i -> mongo.insert(
                                    "floor_single",
                                    new JsonObject().put("_id", "s" + i).put("tenantId", "floor")))
                    .await();
            double single = perSecond(n, System.nanoTime() - start);
            return List.of(
                    String.format(
                            Locale.ROOT,
                            "| %-10s | floor: %-31s | %6d | %,9.0f files/s  |        |        |",
                            mode,
                            "minimal upload writes (6 calls)",
                            n,
                            minimal),
                    String.format(
                            Locale.ROOT,
                            "| %-10s | floor: %-31s | %6d | %,9.0f files/s  |        |        |",
                            mode,
                            "same, " + UploadFloors.BATCH + " uploads per round trip",
                            n,
                            batched.perSecond()),
                    String.format(
                            Locale.ROOT,
                            "| %-10s | floor: %-31s | %6d | %,9.0f docs/s   |        |        |",
                            mode,
                            "mongodb single inserts (conc. " + CONCURRENCY + ")",
                            n,
                            single));
        } finally {
            mongo.close().await();
        }
    }

    private static String floorRow(String mode, String floorRow) {
        String[] cells = floorRow.split("\\|");
        return String.format(
                Locale.ROOT,
                "| %-10s | floor: %-31s | %6s | %-17s |        |        |",
                mode,
                (cells[1].trim() + " " + cells[2].trim()),
                cells[4].trim(),
                cells[5].trim());
    }

    static TrisyncConfig config(boolean persist) throws Exception {
        Path data = Files.createTempDirectory("trisync-ingest-bench");
        Map<String, String> env = new HashMap<>();
        env.put("EMBEDDED_PERSIST", String.valueOf(persist));
        env.put("EMBEDDED_MONGO_PORT", "0");
        env.put("EMBEDDED_S3_PORT", "0");
        env.put("EMBEDDED_QDRANT_PORT", "0");
        env.put("HTTP_PORT", "0");
        env.put("DATA_DIR", data.toString());
        env.put("AUTH_ENABLED", "false");
        env.put("API_RATE_LIMIT_PER_MINUTE", "10000000");
        env.put("HTTP_INSTANCES", System.getProperty("bench.instances", "0"));
        // The store pipeline embeds with PrecomputedModel, a model the configuration does not name: side by
        // side, the node would refuse its points as another model's (the pointer records the configured one).
        env.put("EMBEDDING_MODEL_CHANGE", "in_place");
        return ConfigLoader.fromJson(new JsonObject(Files.readString(Path.of("conf/config.json"))), env);
    }

    /** About 4 KiB of varied English-like text. */
    static String text4k(int seed) {
        String[] words = ("contract invoice supplier payment delivery warranty clause amendment renewal term "
                        + "liability notice schedule price quantity approval audit record archive policy review")
                .split(" ");
        StringBuilder sb = new StringBuilder(4200);
        int i = seed;
        while (sb.length() < 4096) {
            sb.append(words[Math.floorMod(i * 31 + seed, words.length)]).append(i % 11 == 0 ? ". " : " ");
            i++;
        }
        return sb.substring(0, 4096);
    }
}
