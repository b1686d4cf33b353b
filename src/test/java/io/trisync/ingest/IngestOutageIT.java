package io.trisync.ingest;

import static io.trisync.ingest.IngestFaultFixture.*;
import static io.trisync.testsupport.Fixtures.utf8;
import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.trisync.Node;
import io.trisync.failure.Failure;
import io.trisync.store.MetadataStore.FileQuery;
import io.trisync.testsupport.Await;
import io.trisync.testsupport.Fixtures;
import io.trisync.testsupport.Http;
import io.trisync.testsupport.RestartableStores;
import io.trisync.testsupport.TestStack;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.LoggerFactory;

/**
 * A store going down under a node and coming back: requests fail fast with 503 meanwhile, and nothing
 * is left half done once the store returns.
 */
@Timeout(600)
class IngestOutageIT {

    private final RestartableStores stores = stores();

    @AfterEach
    void storesBack() throws Exception {
        stores.startStopped();
    }

    @Test
    @DisplayName("S3 down: the upload fails 503, the next fails fast, and nothing is left once S3 returns")
    void s3DownDuringUpload() throws Exception {
        String tenant = TestStack.unique("t");
        Node node = Node.start(config(), false).await();
        try (Http http = new Http(node.vertx(), node.httpPort())) {
            stores.stopS3();
            HttpResponse<Buffer> first = http.upload(tenant, "a.txt", "text/plain", utf8("hello"), null);
            assertThat(first.statusCode()).as(first.bodyAsString()).isEqualTo(503);
            assertThat(first.getHeader("Retry-After")).isNotNull();
            HttpResponse<Buffer> second = http.upload(tenant, "b.txt", "text/plain", utf8("hello"), null);
            assertThat(second.statusCode()).isEqualTo(503);
            assertThat(second.bodyAsJsonObject().getString("message")).contains("s3 is unavailable");
            assertThat(second.getHeader("Retry-After")).isEqualTo(String.valueOf(Failure.RETRY_AFTER_SECONDS));
            assertThat(second.bodyAsJsonObject().getString("message"))
                    .contains("retry in " + Failure.RETRY_AFTER_SECONDS + "s");
            stores.startS3();
            // The breaker probes S3 once every Retry-After: an upload succeeds within that of S3's return.
            long back = System.nanoTime();
            Await.until(
                    "an upload to succeed after S3's return",
                    10_000,
                    () -> http.upload(tenant, "c.txt", "text/plain", utf8("hello again"), null)
                                    .statusCode()
                            == 201);
            long tookMs = (System.nanoTime() - back) / 1_000_000;
            assertThat(tookMs).as("ms from S3's return to a stored upload").isLessThan(5_000);
            recoverTenant(node, tenant);
            assertThat(node.stores().metadata().count(FileQuery.tenant(tenant)).await())
                    .as("only the upload made after S3 returned")
                    .isEqualTo(1);
            assertThat(node.stores().operations().countOpen(tenant).await()).isZero();
        } finally {
            node.stop().await();
        }
    }

    @Test
    @DisplayName("Qdrant down: the upload fails 503, its failed undo is logged, and the node undoes it completely once"
            + " Qdrant returns")
    void qdrantDownDuringUpload() throws Exception {
        String tenant = TestStack.unique("t");
        Node node = Node.start(config(), false).await();
        ListAppender<ILoggingEvent> log = new ListAppender<>();
        Logger uploads = (Logger) LoggerFactory.getLogger("io.trisync.ingest.UploadFlow");
        log.start();
        uploads.addAppender(log);
        try (Http http = new Http(node.vertx(), node.httpPort())) {
            stores.stopQdrant();
            HttpResponse<Buffer> r = http.upload(tenant, "a.txt", "text/plain", utf8(Fixtures.prose(50)), null);
            assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(503);
            // The undo needs Qdrant too: it fails, and says so.
            Await.until("the failed undo to be logged", 30_000, () -> log.list.stream()
                    .anyMatch(e -> e.getLevel() == Level.WARN
                            && e.getFormattedMessage().contains("could not be undone now")
                            && e.getFormattedMessage().contains(tenant)));
            uploads.detachAppender(log);
            // The record goes first, while Qdrant is still down: no listing shows the refused upload.
            assertThat(node.stores().metadata().count(FileQuery.tenant(tenant)).await())
                    .isZero();
            stores.startQdrant();
            // No recovery sweep: the node undoes the upload itself once Qdrant answers again.
            Await.until(
                    "the upload to be undone",
                    15_000,
                    () -> node.stores().operations().countOpen(tenant).await() == 0);
            assertNothingLeft(node.stores(), tenant);
        } finally {
            node.stop().await();
        }
    }

    @Test
    @DisplayName("Qdrant down: a delete answers 202 and completes once Qdrant returns")
    void qdrantDownDuringDelete() throws Exception {
        String tenant = TestStack.unique("t");
        Node node = Node.start(config(), false).await();
        try (Http http = new Http(node.vertx(), node.httpPort())) {
            String id = http.upload(tenant, "a.txt", "text/plain", utf8(Fixtures.prose(50)), null)
                    .bodyAsJsonObject()
                    .getString("id");
            stores.stopQdrant();
            HttpResponse<Buffer> r = http.delete("/api/files/" + id + "?user_id=" + tenant);
            assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(202);
            assertThat(r.bodyAsJsonObject().getString("status")).isEqualTo("deleting");
            assertThat(http.get("/api/files/" + id + "/content?user_id=" + tenant)
                            .statusCode())
                    .isEqualTo(404);
            stores.startQdrant();
            // No recovery sweep: the deferred delete resumes by itself once Qdrant answers again.
            Await.until(
                    "the deferred delete to complete",
                    10_000,
                    () -> node.stores().operations().countOpen(tenant).await() == 0);
            assertThat(node.stores().vectors().count(tenant, id).await()).isZero();
            assertThat(node.stores().operations().countOpen(tenant).await()).isZero();
            assertThat(node.stores()
                            .blobs()
                            .list(tenant + "/", null, 10, false)
                            .await()
                            .items())
                    .isEmpty();
        } finally {
            node.stop().await();
        }
    }

    @Test
    @DisplayName("MongoDB down: the upload fails 503 before any store is written")
    void mongoDownRejectsUpload() throws Exception {
        String tenant = TestStack.unique("t");
        Node node = Node.start(config(), false).await();
        try (Http http = new Http(node.vertx(), node.httpPort())) {
            stores.stopMongo();
            HttpResponse<Buffer> r = http.upload(tenant, "a.txt", "text/plain", utf8("hello"), null);
            assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(503);
            stores.startMongo();
            awaitMongo(node);
            assertNothingLeft(node.stores(), tenant);
        } finally {
            node.stop().await();
        }
    }

    @Test
    @DisplayName("MongoDB down: found once, then every request is 503 at once and /health is fast;"
            + " requests succeed again within seconds of its return")
    void mongoOutageAnsweredFast() throws Exception {
        String tenant = TestStack.unique("t");
        Node node = Node.start(config(), false).await();
        try (Http http = new Http(node.vertx(), node.httpPort())) {
            assertThat(http.get("/api/files?user_id=" + tenant).statusCode()).isEqualTo(200);
            stores.stopMongo();
            // The first call waits for the driver's server selection and finds MongoDB gone.
            assertThat(http.get("/api/files?user_id=" + tenant).statusCode()).isEqualTo(503);
            long slowest = 0;
            for (int i = 0; i < 5; i++) {
                long started = System.nanoTime();
                HttpResponse<Buffer> r = http.get("/api/files?user_id=" + tenant);
                slowest = Math.max(slowest, (System.nanoTime() - started) / 1_000_000);
                assertThat(r.statusCode()).isEqualTo(503);
                assertThat(r.getHeader("Retry-After")).isEqualTo(String.valueOf(Failure.RETRY_AFTER_SECONDS));
            }
            long started = System.nanoTime();
            HttpResponse<Buffer> health = http.get("/health");
            long healthMs = (System.nanoTime() - started) / 1_000_000;
            assertThat(health.statusCode()).isEqualTo(503);
            assertThat(health.bodyAsJsonObject()
                            .getJsonObject("stores")
                            .getJsonObject("mongodb")
                            .getString("status"))
                    .isEqualTo("DOWN");
            // Bounds far above what the gate takes (milliseconds) and far below the driver's 5 s selection.
            assertThat(slowest)
                    .as("slowest 503 while MongoDB is known down, ms")
                    .isLessThan(2_500);
            assertThat(healthMs).as("/health while MongoDB is known down, ms").isLessThan(2_500);
            stores.startMongo();
            long back = System.nanoTime();
            Await.until(
                    "a request to succeed after MongoDB's return",
                    20_000,
                    () -> http.get("/api/files?user_id=" + tenant).statusCode() == 200);
            assertThat((System.nanoTime() - back) / 1_000_000)
                    .as("ms from MongoDB's return to an answered request")
                    .isLessThan(10_000);
        } finally {
            node.stop().await();
        }
    }

    @Test
    @DisplayName("MongoDB down: a recovery sweep fails with 503 instead of reporting that it recovered nothing")
    void recoverySweepFailsWhileMongoDown() throws Exception {
        Node node = Node.start(config(), false).await();
        try {
            stores.stopMongo();
            Throwable failure = node.vertx()
                    .eventBus()
                    .<JsonObject>request(
                            IngestAddresses.RECOVER, new JsonObject(), new DeliveryOptions().setSendTimeout(30_000))
                    .map(m -> (Throwable) null)
                    .otherwise(e -> e)
                    .await();
            stores.startMongo();
            assertThat(failure).isInstanceOf(ReplyException.class);
            assertThat(((ReplyException) failure).failureCode()).isEqualTo(503);
        } finally {
            node.stop().await();
        }
    }
}
