package io.trisync.bench;

import io.trisync.Node;
import io.trisync.config.ConfigLoader;
import io.trisync.config.TrisyncConfig;
import io.trisync.embedding.MiniLmEmbeddingModel;
import io.trisync.store.ChunkPoint;
import io.trisync.store.FileRecord;
import io.trisync.store.Stores;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Search latency on the embedded stack: {@code POST /api/search} (limit 10) over a tenant of 10,000
 * and 100,000 chunks (four per file, each file with its blob and record), split as the answer's
 * {@code timings_ms} reports it (embedding the query with the local model, the vector search, the
 * consistency check), beside the embedded Qdrant's raw search of as many candidates in the same
 * run. Prints figures; never fails on timing.
 *
 * <pre>mvn -B -Pbench test -Dtest=SearchBench [-Dbench.search.chunks=10000,100000 -Dbench.search.queries=100]</pre>
 */
@Tag("bench")
class SearchBench {

    @Test
    void search() throws Exception {
        int queries = Integer.getInteger("bench.search.queries", 100);
        List<String> rows = new ArrayList<>();
        for (String n :
                System.getProperty("bench.search.chunks", "10000,100000").split(",")) {
            rows.addAll(run(Integer.parseInt(n.trim()), queries));
        }
        String out = String.join("\n", rows);
        System.out.println("\n=== Search ===\n" + out + "\n");
        Files.createDirectories(Path.of("target/bench"));
        Files.writeString(Path.of("target/bench/search.md"), out + "\n");
    }

    private static List<String> run(int chunks, int queries) throws Exception {
        Node node = Node.start(config(), false).await();
        WebClient web = WebClient.create(node.vertx());
        try {
            String tenant = "search-" + chunks;
            long t0 = System.nanoTime();
            seed(node.stores(), tenant, chunks / 4, node.config().sync().partitions());
            double seeded = (System.nanoTime() - t0) / 1e9;
            String[] words = ("contract invoice supplier amendment archive negotiation letter payment "
                            + "delivery warranty clause signature budget report audit")
                    .split(" ");
            Random random = new Random(7);
            // Warm-up, not measured.
            for (int i = 0; i < 10; i++) {
                query(web, node, tenant, words[i % words.length]);
            }
            long[] total = new long[queries];
            double[] embed = new double[queries];
            double[] vector = new double[queries];
            double[] check = new double[queries];
            long headed = 0;
            double[] records = new double[queries];
            double[] blobs = new double[queries];
            for (int i = 0; i < queries; i++) {
                String q = words[random.nextInt(words.length)] + " " + words[random.nextInt(words.length)];
                long t = System.nanoTime();
                JsonObject answer = query(web, node, tenant, q);
                total[i] = System.nanoTime() - t;
                JsonObject timings = answer.getJsonObject("timings_ms");
                embed[i] = timings.getDouble("embed");
                vector[i] = timings.getDouble("vector_search");
                check[i] = timings.getDouble("consistency_check");
                headed += answer.getInteger("blobs_checked");
                records[i] = timings.getDouble("records");
                blobs[i] = timings.getDouble("blobs");
            }
            float[] probe = MiniLmEmbeddingModel.shared()
                    .embed(List.of("contract payment"))
                    .get(0);
            long[] raw = new long[queries];
            for (int i = 0; i < queries; i++) {
                long t = System.nanoTime();
                node.stores().vectors().search(tenant, probe, 40).await();
                raw[i] = System.nanoTime() - t;
            }
            // What every search paid before blobs verified recently were trusted: ten HEADs in parallel.
            List<String> keys = node.stores().blobs().list(tenant + "/", null, 10, false).await().items().stream()
                    .map(b -> b.key())
                    .toList();
            long[] heads = new long[queries];
            for (int i = 0; i < queries; i++) {
                long t = System.nanoTime();
                Future.all(keys.stream().map(k -> node.stores().blobs().head(k)).toList())
                        .await();
                heads[i] = System.nanoTime() - t;
            }
            // The floor of a check that reads records fresh: one read of ten records by id, alone.
            List<String> ids =
                    keys.stream().map(k -> k.substring(k.lastIndexOf('/') + 1)).toList();
            long[] reads = new long[queries];
            for (int i = 0; i < queries; i++) {
                long t = System.nanoTime();
                node.stores().metadata().getAll(ids).await();
                reads[i] = System.nanoTime() - t;
            }
            double rawP50 = BenchSupport.percentileMs(raw, 50);
            double checkP50 = percentile(check, 50);
            return List.of(
                    String.format(Locale.ROOT, "%,d chunks (%,d files) seeded in %.1f s", chunks, chunks / 4, seeded),
                    String.format(
                            Locale.ROOT,
                            "| %,8d chunks | search p50 %6.1f ms, p99 %6.1f ms | embed p50 %5.1f / p99 %5.1f | vector search p50 %6.1f / p99 %6.1f | consistency check p50 %5.1f / p99 %5.1f (records p50 %5.1f, blobs p50 %5.1f) | raw Qdrant search (40) p50 %6.1f / p99 %6.1f | check / raw search at p50: %.0f %% | blobs HEADed per search %.2f (10 HEADs in parallel p50 %.1f ms) | 10 records by id alone p50 %.1f ms |",
                            chunks,
                            BenchSupport.percentileMs(total, 50),
                            BenchSupport.percentileMs(total, 99),
                            percentile(embed, 50),
                            percentile(embed, 99),
                            percentile(vector, 50),
                            percentile(vector, 99),
                            checkP50,
                            percentile(check, 99),
                            percentile(records, 50),
                            percentile(blobs, 50),
                            rawP50,
                            BenchSupport.percentileMs(raw, 99),
                            100 * checkP50 / rawP50,
                            (double) headed / queries,
                            BenchSupport.percentileMs(heads, 50),
                            BenchSupport.percentileMs(reads, 50)));
        } finally {
            web.close();
            node.stop().await();
        }
    }

    private static JsonObject query(WebClient web, Node node, String tenant, String q) {
        HttpResponse<Buffer> r = web.post(node.httpPort(), "127.0.0.1", "/api/search")
                .sendJsonObject(
                        new JsonObject().put("user_id", tenant).put("query", q).put("limit", 10))
                .await();
        if (r.statusCode() != 200) {
            throw new AssertionError("search: " + r.statusCode() + " " + r.bodyAsString());
        }
        return r.bodyAsJsonObject();
    }

    private static double percentile(double[] values, double p) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int index = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
    }

    private static TrisyncConfig config() throws Exception {
        Path data = Files.createTempDirectory("trisync-search-bench");
        Map<String, String> env = new HashMap<>();
        env.put("EMBEDDED_PERSIST", "false");
        env.put("EMBEDDED_MONGO_PORT", "0");
        env.put("EMBEDDED_S3_PORT", "0");
        env.put("EMBEDDED_QDRANT_PORT", "0");
        env.put("HTTP_PORT", "0");
        env.put("DATA_DIR", data.toString());
        env.put("AUTH_ENABLED", "false");
        env.put("API_RATE_LIMIT_PER_MINUTE", "10000000");
        return ConfigLoader.fromJson(new JsonObject(Files.readString(Path.of("conf/config.json"))), env);
    }

    /** Files of four chunks: blobs (their ETags on the records), records and points with random unit vectors. */
    private static void seed(Stores stores, String tenant, int files, int partitions) {
        String model = MiniLmEmbeddingModel.NAME;
        List<FileRecord> records = SeededFiles.write(
                stores, tenant, "s", files, partitions, model, 4, i -> ("text of " + String.format("s-%07d", i))
                        .getBytes(StandardCharsets.UTF_8));
        Random random = new Random(11);
        List<ChunkPoint> points = new ArrayList<>();
        for (FileRecord r : records) {
            for (int c = 0; c < 4; c++) {
                float[] v = new float[384];
                double norm = 0;
                for (int d = 0; d < v.length; d++) {
                    v[d] = (float) random.nextGaussian();
                    norm += v[d] * v[d];
                }
                for (int d = 0; d < v.length; d++) {
                    v[d] /= (float) Math.sqrt(norm);
                }
                points.add(ChunkPoint.of(
                        tenant, r.id(), c, r.partition(), r.sha256(), model, v, "chunk " + c + " of " + r.id()));
            }
            if (points.size() >= 1024) {
                stores.vectors().upsert(List.copyOf(points)).await();
                points.clear();
            }
        }
        if (!points.isEmpty()) {
            stores.vectors().upsert(points).await();
        }
    }
}
