package io.trisync.ingest;

import io.trisync.Node;
import io.trisync.config.ConfigLoader;
import io.trisync.config.TrisyncConfig;
import io.trisync.testsupport.HeapSampler;
import io.trisync.testsupport.TestStack;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;

/**
 * Run by {@link LargeTextIT} in a child JVM with a small heap: a node on the stores and embedding
 * service named by the environment is sent the text file of the first argument as an upload by
 * tenant {@code args[2]}, then the one of the second argument as the file's new version, each
 * streamed from disk (the client holds neither), then every file of the tenant is re-indexed; prints
 * both answers, the re-index and the peak heap in use (sampled every 10 ms).
 */
public final class LargeTextInSmallHeap {

    private LargeTextInSmallHeap() {}

    public static void main(String[] args) {
        try {
            run(Path.of(args[0]), Path.of(args[1]), args[2]);
        } catch (Throwable failure) {
            // Vert.x's event loops would keep a failed child alive and its parent waiting.
            failure.printStackTrace(System.out);
            System.out.flush();
            Runtime.getRuntime().halt(1);
        }
    }

    private static void run(Path first, Path second, String tenant) throws Exception {
        HeapSampler heap = HeapSampler.start(10);
        TrisyncConfig config = ConfigLoader.fromJson(TestStack.defaults(), System.getenv());
        Node node = Node.start(config, false).await();
        String base = "http://127.0.0.1:" + node.httpPort() + "/api/files";
        HttpClient client =
                HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        long start = System.nanoTime();
        HttpResponse<String> uploaded = client.send(multipart("POST", URI.create(base), tenant, first), body());
        double uploadSeconds = (System.nanoTime() - start) / 1e9;
        JsonObject result = new JsonObject()
                .put("uploadStatus", uploaded.statusCode())
                .put("upload", uploaded.body())
                .put("uploadSeconds", uploadSeconds);
        if (uploaded.statusCode() == 201) {
            String id = new JsonObject(uploaded.body()).getString("id");
            start = System.nanoTime();
            HttpResponse<String> replaced = client.send(
                    multipart("PUT", URI.create(base + "/" + id + "/content?user_id=" + tenant), null, second), body());
            result.put("replaceStatus", replaced.statusCode())
                    .put("replace", replaced.body())
                    .put("replaceSeconds", (System.nanoTime() - start) / 1e9);
            start = System.nanoTime();
            result.put("reindex", reindex(client, node.httpPort(), tenant))
                    .put("reindexSeconds", (System.nanoTime() - start) / 1e9);
        }
        System.out.println("RESULT "
                + result.put("peakHeapBytes", heap.peakBytes())
                        .put("maxHeapBytes", Runtime.getRuntime().maxMemory())
                        .encode());
        System.out.flush();
        Runtime.getRuntime().halt(0);
    }

    /**
     * Re-indexes every file of the tenant ({@code all}: the model is the same) and waits for it to
     * end (ten minutes at most); the operation as the status reports it then.
     */
    private static JsonObject reindex(HttpClient client, int port, String tenant) throws Exception {
        String base = "http://127.0.0.1:" + port + "/api/v1/sync";
        HttpResponse<String> started = client.send(
                HttpRequest.newBuilder(URI.create(base))
                        .header("Content-Type", "application/json")
                        .POST(BodyPublishers.ofString(new JsonObject()
                                .put("tenant_id", tenant)
                                .put("kind", "reindex")
                                .put("all", true)
                                .encode()))
                        .build(),
                body());
        if (started.statusCode() != 202) {
            return new JsonObject().put("status", "not started").put("answer", started.body());
        }
        long deadline = System.nanoTime() + Duration.ofMinutes(10).toNanos();
        while (System.nanoTime() < deadline) {
            JsonObject latest = new JsonObject(client.send(
                                    HttpRequest.newBuilder(URI.create(base + "/status?tenant_id=" + tenant))
                                            .build(),
                                    body())
                            .body())
                    .getJsonObject("latest_sync");
            if (latest != null && !"running".equals(latest.getString("status"))) {
                return latest;
            }
            Thread.sleep(500);
        }
        return new JsonObject().put("status", "still running after ten minutes");
    }

    private static HttpResponse.BodyHandler<String> body() {
        return HttpResponse.BodyHandlers.ofString();
    }

    /** A multipart request with {@code user_id} (unless null) and the file at {@code path}, read as it is sent. */
    private static HttpRequest multipart(String method, URI uri, String tenant, Path path) throws Exception {
        String boundary = "----trisync" + UUID.randomUUID().toString().replace("-", "");
        StringBuilder head = new StringBuilder();
        if (tenant != null) {
            head.append("--")
                    .append(boundary)
                    .append("\r\nContent-Disposition: form-data; name=\"user_id\"\r\n\r\n")
                    .append(tenant)
                    .append("\r\n");
        }
        head.append("--")
                .append(boundary)
                .append("\r\nContent-Disposition: form-data; name=\"file\"; filename=\"")
                .append(path.getFileName())
                .append("\"\r\nContent-Type: text/plain\r\n\r\n");
        return HttpRequest.newBuilder(uri)
                .timeout(Duration.ofMinutes(10))
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .method(
                        method,
                        BodyPublishers.concat(
                                BodyPublishers.ofString(head.toString()),
                                BodyPublishers.ofFile(path),
                                BodyPublishers.ofString("\r\n--" + boundary + "--\r\n")))
                .build();
    }
}
