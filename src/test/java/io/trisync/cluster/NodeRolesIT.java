package io.trisync.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.trisync.Node;
import io.trisync.config.TrisyncConfig;
import io.trisync.store.MetadataStore;
import io.trisync.testsupport.Await;
import io.trisync.testsupport.Fixtures;
import io.trisync.testsupport.Http;
import io.trisync.testsupport.TestStack;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@code NODE_ROLES}: which capabilities a node deploys, and what a cluster missing one answers. */
@Timeout(180)
class NodeRolesIT {

    @Test
    @DisplayName("An HTTP-only node answers 503 naming the role no node runs; a worker node without HTTP"
            + " then takes its uploads and scan partitions")
    void httpFrontAndWorker() {
        TrisyncConfig front = TestStack.config(Map.of("NODE_ID", "front", "NODE_ROLES", "http"));
        Node a = Node.start(front, true).await();
        Node b = null;
        String tenant = TestStack.unique("roles");
        try (Http http = new Http(a.vertx(), a.httpPort())) {
            HttpResponse<Buffer> files = http.get("/api/files?user_id=" + tenant);
            assertThat(files.statusCode()).isEqualTo(503);
            assertThat(files.bodyAsJsonObject().getString("message")).contains("ingest role");
            HttpResponse<Buffer> upload = http.upload(
                    tenant, "a.txt", "text/plain", Fixtures.prose(80).getBytes(StandardCharsets.UTF_8), null);
            assertThat(upload.statusCode()).isEqualTo(503);
            assertThat(upload.bodyAsJsonObject().getString("message")).contains("ingest role");
            HttpResponse<Buffer> ops = http.get("/api/v1/sync/operations");
            assertThat(ops.statusCode()).isEqualTo(503);
            assertThat(ops.bodyAsJsonObject().getString("message")).contains("monitor role");

            TrisyncConfig stores = a.config();
            b = Node.start(
                            TestStack.joining(
                                    stores,
                                    Map.of(
                                            "NODE_ID", "worker",
                                            "NODE_ROLES", "ingest,scan,repair,monitor")),
                            true)
                    .await();
            assertThat(b.httpPort()).as("the worker serves no HTTP").isEqualTo(-1);
            Node worker = b;
            Await.until(
                    "the worker's ingest handlers to reach the front node",
                    30_000,
                    () -> http.get("/api/files?user_id=" + tenant).statusCode() == 200);
            for (int i = 0; i < 3; i++) {
                HttpResponse<Buffer> stored = http.upload(
                        tenant,
                        "doc-" + i + ".txt",
                        "text/plain",
                        Fixtures.prose(80 + i).getBytes(StandardCharsets.UTF_8),
                        null);
                assertThat(stored.statusCode()).as(stored.bodyAsString()).isEqualTo(201);
            }
            HttpResponse<Buffer> analyzed = http.post(
                    "/api/sync/analyze",
                    "application/json",
                    Buffer.buffer(new JsonObject().put("user_id", tenant).encode()));
            assertThat(analyzed.statusCode()).as(analyzed.bodyAsString()).isEqualTo(200);
            JsonObject report = analyzed.bodyAsJsonObject();
            assertThat(report.getJsonObject("summary").getInteger("total_files"))
                    .isEqualTo(3);
            assertThat(report.getJsonObject("summary").getInteger("synced")).isEqualTo(3);
            assertThat(report.getJsonObject("scanned_by").fieldNames()).containsExactly("worker");
            assertThat(worker.stores()
                            .metadata()
                            .count(MetadataStore.FileQuery.tenant(tenant))
                            .await())
                    .isEqualTo(3);
        } finally {
            if (b != null) {
                b.stop().await();
            }
            a.stop().await();
        }
    }
}
