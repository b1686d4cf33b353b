package io.trisync.bench;

import io.trisync.Node;
import io.trisync.config.ConfigLoader;
import io.trisync.config.TrisyncConfig;
import io.trisync.ingest.IngestHooks;
import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * 500 bridge clients over 50 tenants, each subscribed with its tenant token, in a separate JVM
 * ({@link BridgeClients}) that also uploads (store pipeline with a precomputed vector, so the model
 * does not throttle them) to produce the events. This JVM holds the node with its embedded stores
 * only, so its process CPU is the node's. Prints, per offered upload rate, the latency from the
 * event's commit ({@code at}, stamped before it is logged) to receipt by each client, p50/p99/max,
 * and the node's CPU. The node is warmed up first until the JIT compiler quietens (on 2 cores it
 * compiles for a minute and more). Asserts nothing.
 */
@Tag("bench")
class BridgeBench {

    static final String SECRET = "bench-secret-0123456789abcdef-0123456789";

    @Test
    void bridge() throws Exception {
        int clients = Integer.getInteger("bench.bridge.clients", 500);
        int tenants = Integer.getInteger("bench.bridge.tenants", 50);
        int uploads = Integer.getInteger("bench.bridge.uploads", 300);
        int maxWarmups = Integer.getInteger("bench.bridge.warmups", 15);
        String rates = System.getProperty("bench.bridge.rates", "20,50,0");
        Map<String, String> env = new HashMap<>();
        env.put("EMBEDDED_PERSIST", "false");
        env.put("EMBEDDED_MONGO_PORT", "0");
        env.put("EMBEDDED_S3_PORT", "0");
        env.put("EMBEDDED_QDRANT_PORT", "0");
        env.put("HTTP_PORT", "0");
        env.put("DATA_DIR", Files.createTempDirectory("trisync-bridge-bench").toString());
        env.put("AUTH_ENABLED", "true");
        env.put("AUTH_JWT_SECRET", SECRET);
        env.put("API_RATE_LIMIT_PER_MINUTE", "1000000");
        TrisyncConfig config =
                ConfigLoader.fromJson(new JsonObject(Files.readString(Path.of("conf/config.json"))), env);
        Node node = Node.start(config, false, IngestHooks.NONE, new IngestBench.PrecomputedModel())
                .await();
        Process child = new ProcessBuilder(
                        ProcessHandle.current().info().command().orElse("java"),
                        "-Xmx512m",
                        "-cp",
                        System.getProperty("java.class.path"),
                        BridgeClients.class.getName(),
                        String.valueOf(node.httpPort()),
                        String.valueOf(clients),
                        String.valueOf(tenants),
                        SECRET)
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        try (BufferedReader out =
                        new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
                PrintWriter in = new PrintWriter(child.getOutputStream(), true, StandardCharsets.UTF_8)) {
            expect(out, "ready");
            Thread.sleep(2000);
            CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
            int warmups = 0;
            long jitMs;
            long roundMs;
            do {
                long jit0 = jit.getTotalCompilationTime();
                in.println("round w" + warmups + " " + uploads + " 0");
                roundMs = Long.parseLong(expect(out, "done")[1]);
                jitMs = jit.getTotalCompilationTime() - jit0;
                warmups++;
            } while (warmups < maxWarmups && jitMs > roundMs / 10);
            var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
            List<String> rows = new ArrayList<>();
            rows.add(String.format(
                    Locale.ROOT,
                    "%d clients over %d tenants, %d uploads per rate, node warmed up by %d rounds of %d uploads"
                            + " (last: JIT compiling %d ms in a %d ms round)",
                    clients,
                    tenants,
                    uploads,
                    warmups,
                    uploads,
                    jitMs,
                    roundMs));
            rows.add("");
            rows.add("| offered uploads/s | achieved | deliveries | refusals | p50 | p99 | max | node CPU |");
            rows.add("|---|---|---|---|---|---|---|---|");
            for (String rate : rates.split(",")) {
                long cpu0 = os.getProcessCpuTime();
                long wall0 = System.nanoTime();
                in.println("measure m" + rate + " " + uploads + " " + rate.trim());
                String[] r = expect(out, "result");
                double cpu = (os.getProcessCpuTime() - cpu0) / (double) (System.nanoTime() - wall0);
                rows.add(String.format(
                        Locale.ROOT,
                        "| %s | %s | %,d of %,d | %s | %s ms | %s ms | %s ms | %.0f%% of one core |",
                        rate.trim().equals("0") ? "as fast as 8 in flight go" : rate.trim(),
                        r[6],
                        Long.parseLong(r[1]),
                        uploads * 2 * (clients / tenants),
                        r[2],
                        r[3],
                        r[4],
                        r[5],
                        100 * cpu));
            }
            String report = String.join("\n", rows);
            System.out.println("\n=== Bridge ===\n" + report + "\n");
            Files.createDirectories(Path.of("target/bench"));
            Files.writeString(Path.of("target/bench/bridge.md"), report + "\n");
        } finally {
            child.destroy();
            node.stop().await();
        }
    }

    /** Reads the child's lines until one starting with {@code word}; returns it split on spaces. */
    private static String[] expect(BufferedReader out, String word) throws Exception {
        for (String line = out.readLine(); line != null; line = out.readLine()) {
            if (line.startsWith(word)) {
                return line.split(" ");
            }
            System.out.println("[clients] " + line);
        }
        throw new IllegalStateException("the client process ended before saying " + word);
    }
}
