package io.trisync.ingest;

import io.trisync.Node;
import io.trisync.config.ConfigLoader;
import io.trisync.config.TrisyncConfig;
import io.trisync.testsupport.HeapSampler;
import io.trisync.testsupport.TestStack;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;

/**
 * Run by {@link LargeTextIT} in a child JVM with a small heap: a node on the stores and embedding
 * service named by the environment is sent every text file named after the tenant ({@code args[0]})
 * as uploads all at once, each streamed from disk (the client holds none); prints each answer and
 * the peak heap in use (sampled every 10 ms).
 */
public final class ConcurrentLargeTexts {

    private ConcurrentLargeTexts() {}

    public static void main(String[] args) {
        try {
            List<Path> files = new ArrayList<>();
            for (int i = 1; i < args.length; i++) {
                files.add(Path.of(args[i]));
            }
            run(args[0], files);
        } catch (Throwable failure) {
            // Vert.x's event loops would keep a failed child alive and its parent waiting.
            failure.printStackTrace(System.out);
            System.out.flush();
            Runtime.getRuntime().halt(1);
        }
    }

    private static void run(String tenant, List<Path> files) throws Exception {
        HeapSampler heap = HeapSampler.start(10);
        TrisyncConfig config = ConfigLoader.fromJson(TestStack.defaults(), System.getenv());
        Node node = Node.start(config, false).await();
        URI uri = URI.create("http://127.0.0.1:" + node.httpPort() + "/api/files");
        HttpClient client =
                HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        long start = System.nanoTime();
        List<CompletableFuture<HttpResponse<String>>> answers = new ArrayList<>();
        for (Path file : files) {
            answers.add(client.sendAsync(multipart(uri, tenant, file), HttpResponse.BodyHandlers.ofString()));
        }
        JsonArray uploads = new JsonArray();
        for (CompletableFuture<HttpResponse<String>> answer : answers) {
            HttpResponse<String> r = answer.join();
            uploads.add(new JsonObject().put("status", r.statusCode()).put("body", r.body()));
        }
        System.out.println("RESULT "
                + new JsonObject()
                        .put("uploads", uploads)
                        .put("seconds", (System.nanoTime() - start) / 1e9)
                        .put("peakHeapBytes", heap.peakBytes())
                        .put("maxHeapBytes", Runtime.getRuntime().maxMemory())
                        .encode());
        System.out.flush();
        Runtime.getRuntime().halt(0);
    }

    /** A multipart upload of the file at {@code path} by {@code tenant}, read as it is sent. */
    private static HttpRequest multipart(URI uri, String tenant, Path path) throws Exception {
        String boundary = "----trisync" + UUID.randomUUID().toString().replace("-", "");
        String head = "--" + boundary + "\r\nContent-Disposition: form-data; name=\"user_id\"\r\n\r\n" + tenant
                + "\r\n--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\""
                + path.getFileName() + "\"\r\nContent-Type: text/plain\r\n\r\n";
        return HttpRequest.newBuilder(uri)
                .timeout(Duration.ofMinutes(10))
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(BodyPublishers.concat(
                        BodyPublishers.ofString(head),
                        BodyPublishers.ofFile(path),
                        BodyPublishers.ofString("\r\n--" + boundary + "--\r\n")))
                .build();
    }
}
