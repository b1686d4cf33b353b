package io.trisync;

import static org.assertj.core.api.Assertions.assertThat;

import io.trisync.config.TrisyncConfig;
import io.trisync.embedded.EmbeddedS3;
import io.trisync.store.BlobInfo;
import io.trisync.store.ChunkPoint;
import io.trisync.store.FileRecord;
import io.trisync.store.StoreKeys;
import io.trisync.testsupport.TestStack;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** Whole nodes: persistence across a restart, the health endpoint, and errors as JSON. */
@ExtendWith(VertxExtension.class)
@Timeout(180)
class NodeIT {

    /** The SHA-256 of "hello", the blob's bytes: a record holds a real one (a malformed one reads as unreadable). */
    private static final String HELLO_SHA256 = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";

    @Test
    @DisplayName("Data written, node stopped, node started on the same DATA_DIR (spelled with ./ as the default"
            + " ./data resolves): all three stores still hold it")
    void persistsAcrossRestart() {
        // "/tmp/…/./data", as the default "./data" is from the working directory: the embedded S3
        // server once refused every bucket under such a path, and no node started.
        String data = TestStack.tempDir("trisync-persist") + "/./data";
        TrisyncConfig config = TestStack.config(Map.of("EMBEDDED_PERSIST", "true", "DATA_DIR", data));
        String tenant = "tenant-p";
        String fileId = TestStack.unique("file");
        int partition = StoreKeys.partition(fileId, 64);
        String key = StoreKeys.blobKey(tenant, partition, fileId);
        Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        FileRecord record = new FileRecord(
                fileId,
                tenant,
                "a.txt",
                "text/plain",
                5,
                HELLO_SHA256,
                FileRecord.Status.ACTIVE,
                1,
                partition,
                new FileRecord.Embedding("m", 4, 2, HELLO_SHA256),
                now,
                now,
                null);

        Node first = Node.start(config, false).await();
        try {
            first.stores().metadata().upsert(record).await();
            first.stores()
                    .blobs()
                    .putBytes(key, Buffer.buffer("hello"), "text/plain", Map.of("sha256", HELLO_SHA256))
                    .await();
            first.stores()
                    .vectors()
                    .upsert(List.of(
                            ChunkPoint.of(tenant, fileId, 0, partition, HELLO_SHA256, "m", unit(384, 0)),
                            ChunkPoint.of(tenant, fileId, 1, partition, HELLO_SHA256, "m", unit(384, 1))))
                    .await();
        } finally {
            first.stop().await();
        }

        Node second = Node.start(config, false).await();
        try {
            assertThat(second.stores().metadata().get(fileId).await()).isEqualTo(record);
            BlobInfo head = second.stores().blobs().head(key).await();
            assertThat(head.sha256()).isEqualTo(HELLO_SHA256);
            assertThat(second.stores().blobs().getBytes(key).await().toString()).isEqualTo("hello");
            assertThat(second.stores().vectors().count(tenant, fileId).await()).isEqualTo(2);
        } finally {
            second.stop().await();
        }
    }

    private static float[] unit(int dims, int axis) {
        float[] v = new float[dims];
        v[axis] = 1;
        return v;
    }

    @Test
    @DisplayName("/health is 200 with every store UP, and 503 naming the store once S3 goes down")
    void healthFollowsTheStores(Vertx vertx) throws Exception {
        TrisyncConfig shared = TestStack.config();
        EmbeddedS3 s3 =
                EmbeddedS3.start(0, null, shared.s3().accessKey(), shared.s3().secretKey());
        TrisyncConfig config = TestStack.config(Map.of(
                "MONGO_URI", shared.mongo().uri(),
                "QDRANT_HOST", "127.0.0.1",
                "QDRANT_PORT", String.valueOf(shared.qdrant().port()),
                "S3_ENDPOINT", s3.endpoint()));
        Node node = Node.start(config, false).await();
        WebClient http = WebClient.create(vertx);
        try {
            var up = http.get(node.httpPort(), "127.0.0.1", "/health").send().await();
            assertThat(up.statusCode()).isEqualTo(200);
            JsonObject body = up.bodyAsJsonObject();
            assertThat(body.getString("status")).isEqualTo("UP");
            for (String store : List.of("mongodb", "s3", "qdrant")) {
                assertThat(body.getJsonObject("stores").getJsonObject(store).getString("status"))
                        .isEqualTo("UP");
            }

            s3.close();
            var down = http.get(node.httpPort(), "127.0.0.1", "/health").send().await();
            assertThat(down.statusCode()).isEqualTo(503);
            JsonObject downBody = down.bodyAsJsonObject();
            assertThat(downBody.getString("status")).isEqualTo("DOWN");
            assertThat(downBody.getJsonObject("stores").getJsonObject("s3").getString("status"))
                    .isEqualTo("DOWN");
            assertThat(downBody.getJsonObject("stores").getJsonObject("mongodb").getString("status"))
                    .isEqualTo("UP");

            var missing = http.get(node.httpPort(), "127.0.0.1", "/no/such/thing")
                    .send()
                    .await();
            assertThat(missing.statusCode()).isEqualTo(404);
            assertThat(missing.getHeader("Content-Type")).isEqualTo("application/json");
            assertThat(missing.bodyAsJsonObject().getString("error")).isEqualTo("not_found");

            var metrics =
                    http.get(node.httpPort(), "127.0.0.1", "/metrics").send().await();
            assertThat(metrics.statusCode()).isEqualTo(200);
            assertThat(metrics.bodyAsString()).contains("vertx_http_server_requests_total");
        } finally {
            http.close();
            node.stop().await();
        }
    }
}
