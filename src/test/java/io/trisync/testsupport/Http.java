package io.trisync.testsupport;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import io.vertx.ext.web.multipart.MultipartForm;
import java.util.Map;

/** A small blocking HTTP client for tests of one node. */
public final class Http implements AutoCloseable {

    private final WebClient client;
    private final int port;

    public Http(Vertx vertx, int port) {
        // A request that gets no answer fails its test after two idle minutes instead of hanging it.
        this.client = WebClient.create(
                vertx,
                new WebClientOptions()
                        .setIdleTimeout(120)
                        // A pooled connection is let go well before a node closes it for having no request
                        // (HTTP_IDLE_TIMEOUT_SECONDS, 30): reused just as the node closed it, a request
                        // failed with "Connection was closed" (ClusterKillIT once in CI).
                        .setKeepAliveTimeout(10));
        this.port = port;
    }

    /** POST /api/files with {@code user_id} (omitted when null) and one file part (omitted when name is null). */
    public HttpResponse<Buffer> upload(String userId, String name, String contentType, byte[] bytes, String key) {
        MultipartForm form = MultipartForm.create();
        if (userId != null) {
            form.attribute("user_id", userId);
        }
        if (name != null) {
            form.binaryFileUpload("file", name, Buffer.buffer(bytes), contentType);
        }
        var request = client.post(port, "127.0.0.1", "/api/files");
        if (key != null) {
            request.putHeader("Idempotency-Key", key);
        }
        return request.sendMultipartForm(form).await();
    }

    /** POST /api/files as curl sends it: the multipart body whole, with its {@code Content-Length}. */
    public HttpResponse<Buffer> uploadWithLength(String userId, String name, String contentType, byte[] bytes) {
        MultipartBody body = MultipartBody.of(Map.of("user_id", userId), "file", name, contentType, bytes);
        return client.post(port, "127.0.0.1", "/api/files")
                .putHeader("Content-Type", body.contentType())
                .sendBuffer(body.buffer())
                .await();
    }

    /** PUT {@code path} (a file's content) with one file part and, when not null, {@code If-Match}. */
    public HttpResponse<Buffer> replace(String path, String name, String contentType, byte[] bytes, String ifMatch) {
        MultipartForm form = MultipartForm.create();
        if (name != null) {
            form.binaryFileUpload("file", name, Buffer.buffer(bytes), contentType);
        }
        var request = client.put(port, "127.0.0.1", path);
        if (ifMatch != null) {
            request.putHeader("If-Match", ifMatch);
        }
        return request.sendMultipartForm(form).await();
    }

    public HttpResponse<Buffer> get(String path) {
        return client.get(port, "127.0.0.1", path).send().await();
    }

    public HttpResponse<Buffer> delete(String path) {
        return client.delete(port, "127.0.0.1", path).send().await();
    }

    public HttpResponse<Buffer> post(String path, String contentType, Buffer body) {
        return client.post(port, "127.0.0.1", path)
                .putHeader("Content-Type", contentType)
                .sendBuffer(body)
                .await();
    }

    public HttpResponse<Buffer> put(String path, String contentType, Buffer body) {
        return client.put(port, "127.0.0.1", path)
                .putHeader("Content-Type", contentType)
                .sendBuffer(body)
                .await();
    }

    /** POST {@code path} with {@code form} as a multipart body. */
    public HttpResponse<Buffer> postForm(String path, MultipartForm form) {
        return client.post(port, "127.0.0.1", path).sendMultipartForm(form).await();
    }

    /** PUT {@code path} with {@code form} as a multipart body. */
    public HttpResponse<Buffer> putForm(String path, MultipartForm form) {
        return client.put(port, "127.0.0.1", path).sendMultipartForm(form).await();
    }

    /** PATCH {@code path} with a JSON body. */
    public HttpResponse<Buffer> patch(String path, JsonObject body) {
        return client.patch(port, "127.0.0.1", path).sendJsonObject(body).await();
    }

    /**
     * A full scan of {@code tenant} by the node listening on {@code port} (a child JVM's too), its report;
     * fails unless it answered 200.
     */
    public static JsonObject fullScan(WebClient web, int port, String tenant) {
        HttpResponse<Buffer> r = web.post(port, "127.0.0.1", "/api/sync/analyze")
                .timeout(120_000)
                .sendJsonObject(new JsonObject().put("user_id", tenant).put("mode", "full"))
                .await();
        org.assertj.core.api.Assertions.assertThat(r.statusCode())
                .as(r.bodyAsString())
                .isEqualTo(200);
        return r.bodyAsJsonObject();
    }

    public static JsonObject json(HttpResponse<Buffer> response) {
        return response.bodyAsJsonObject();
    }

    @Override
    public void close() {
        client.close();
    }
}
