package io.trisync.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import io.trisync.Node;
import io.trisync.store.Incarnation;
import io.trisync.store.MongoIncarnationStore;
import io.trisync.store.MongoMetadataStore;
import io.trisync.testsupport.Fixtures;
import io.trisync.testsupport.Http;
import io.trisync.testsupport.TestStack;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.MongoClient;
import io.vertx.ext.web.client.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * An upload claims its Idempotency-Key before it records its operation, so a key may name an
 * operation that is not recorded: while a request with the same key is between those two writes, or
 * for good when its process died there. Such keys are written here with the raw client, as that
 * begin would have left them. Before, any request with the key was answered 404 "mongodb: no
 * operation …" (seen in one of five concurrent sends of the same keyed upload), for the retention
 * period when its begin had been cut off.
 */
@Timeout(120)
class IdempotencyKeyClaimIT {

    private static Node node;
    private static Http http;
    private static MongoClient raw;

    @BeforeAll
    static void start() {
        node = Node.start(TestStack.nodeConfig(Map.of()), false).await();
        http = new Http(node.vertx(), node.httpPort());
        raw = MongoClient.create(
                node.vertx(), MongoMetadataStore.clientConfig(node.config().mongo()));
    }

    @AfterAll
    static void stop() {
        http.close();
        raw.close().await();
        node.stop().await();
    }

    private static void claim(String tenant, String key, String opId, Instant at, String incarnation) {
        JsonObject doc = new JsonObject()
                .put("_id", tenant + "\u0000" + key)
                .put("opId", opId)
                .put("createdAt", new JsonObject().put("$date", at.toString()));
        if (incarnation != null) {
            doc.put("incarnation", incarnation);
        }
        raw.insert("idempotency_keys", doc).await();
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    @DisplayName("A key whose operation a live process is recording is 409 in progress, not 404")
    void keyBeingRecordedIsInProgress() {
        String tenant = TestStack.unique("keys");
        claim(
                tenant,
                "k1",
                "op-being-recorded",
                Instant.now(),
                node.stores().incarnations().id());
        HttpResponse<Buffer> r = http.upload(tenant, "a.txt", "text/plain", bytes("in progress"), "k1");
        assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(409);
        assertThat(r.bodyAsJsonObject().getString("message"))
                .contains("still in progress")
                .contains("op-being-recorded");
    }

    @Test
    @DisplayName("A key left by a begin whose process is gone is freed: the retry stores the file, once")
    void keyOfGoneProcessIsFreed() {
        String tenant = TestStack.unique("keys");
        Instant now = Instant.now();
        String gone = "gone-" + tenant;
        MongoIncarnationStore incarnations = new MongoIncarnationStore(raw);
        incarnations
                .register(new Incarnation(gone, "dead-node", null, null, "elsewhere", null, null, 1, 0, now, now, null))
                .await();
        incarnations.end(gone, now).await();
        claim(tenant, "k2", "op-never-recorded", now, gone);
        byte[] content = bytes("stored after all");
        HttpResponse<Buffer> first = http.upload(tenant, "b.txt", "text/plain", content, "k2");
        assertThat(first.statusCode()).as(first.bodyAsString()).isEqualTo(201);
        assertThat(first.bodyAsJsonObject().getString("sha256")).isEqualTo(Fixtures.sha256(content));
        HttpResponse<Buffer> again = http.upload(tenant, "b.txt", "text/plain", content, "k2");
        assertThat(again.statusCode()).as(again.bodyAsString()).isEqualTo(201);
        assertThat(again.bodyAsJsonObject().getString("id"))
                .isEqualTo(first.bodyAsJsonObject().getString("id"));
        HttpResponse<Buffer> list = http.get("/api/files?user_id=" + tenant);
        assertThat(list.bodyAsJsonObject().getJsonArray("files")).hasSize(1);
    }

    @Test
    @DisplayName("The retry takes a cut-off begin's operation id over: that begin's late write of its operation"
            + " fails as a duplicate, and the key still answers with the one file")
    void lateWriteOfCutOffBeginIsRefused() {
        String tenant = TestStack.unique("keys");
        claim(tenant, "k4", "op-written-late", Instant.now().minusSeconds(3600), null);
        byte[] content = bytes("taken over");
        HttpResponse<Buffer> first = http.upload(tenant, "d.txt", "text/plain", content, "k4");
        assertThat(first.statusCode()).as(first.bodyAsString()).isEqualTo(201);
        // The first begin's operation insert, arriving after all (a process judged gone that was not).
        assertThat(raw.insert("ingest_ops", new JsonObject().put("_id", "op-written-late"))
                        .otherwise(e -> "refused: " + e.getMessage())
                        .await())
                .as("the late write of the taken-over operation")
                .contains("refused")
                .containsIgnoringCase("duplicate");
        HttpResponse<Buffer> again = http.upload(tenant, "d.txt", "text/plain", content, "k4");
        assertThat(again.statusCode()).as(again.bodyAsString()).isEqualTo(201);
        assertThat(again.bodyAsJsonObject().getString("id"))
                .isEqualTo(first.bodyAsJsonObject().getString("id"));
        assertThat(http.get("/api/files?user_id=" + tenant).bodyAsJsonObject().getJsonArray("files"))
                .hasSize(1);
    }

    @Test
    @DisplayName("A key older than the grace period naming no operation (no process recorded on it) is freed")
    void oldKeyWithoutOperationIsFreed() {
        String tenant = TestStack.unique("keys");
        claim(tenant, "k3", "op-long-gone", Instant.now().minusSeconds(3600), null);
        byte[] content = bytes("an old key");
        HttpResponse<Buffer> r = http.upload(tenant, "c.txt", "text/plain", content, "k3");
        assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(201);
        assertThat(r.bodyAsJsonObject().getString("sha256")).isEqualTo(Fixtures.sha256(content));
    }
}
