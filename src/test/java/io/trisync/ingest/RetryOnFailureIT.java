package io.trisync.ingest;

import static io.trisync.testsupport.Fixtures.utf8;
import static org.assertj.core.api.Assertions.assertThat;

import io.trisync.Node;
import io.trisync.failure.Failure;
import io.trisync.store.IngestOperation.Kind;
import io.trisync.store.IngestOperation.Step;
import io.trisync.store.MetadataStore.FileQuery;
import io.trisync.testsupport.Http;
import io.trisync.testsupport.TcpProxy;
import io.trisync.testsupport.TestStack;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.client.HttpResponse;
import java.net.URI;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * An upload or new version that failed before its commit is answered once it is undone, so the
 * client's retry is taken: it was answered at once while its undo (its bytes removed from S3, the
 * operation ended) went on, and a retry sent on that answer was refused 409 until the undo ended (a
 * new version: "being uploaded, updated or deleted by another request"; an upload: its
 * Idempotency-Key still held). S3 answers 200 ms late here, through a proxy, so the undo is still
 * under way when a retry sent on an early answer arrives.
 */
@Timeout(120)
class RetryOnFailureIT {

    /** Fails the first operation of {@code kind} of {@code tenant} once its blob is written, as a store outage would. */
    private static IngestHooks failFirst(String tenant, Kind kind) {
        AtomicBoolean failOnce = new AtomicBoolean(true);
        return (op, step) -> op.tenantId().equals(tenant)
                        && op.kind() == kind
                        && step == Step.BLOB_WRITTEN
                        && failOnce.compareAndSet(true, false)
                ? Future.failedFuture(new Failure.Unavailable("qdrant: the test's hook failed the " + kind))
                : Future.succeededFuture();
    }

    /** A node on the shared stack but for S3, reached through {@code slowS3}, with {@code hooks}. */
    private static Node slowS3Node(TcpProxy slowS3, IngestHooks hooks) {
        return Node.start(
                        TestStack.nodeConfig(Map.of("S3_ENDPOINT", "http://127.0.0.1:" + slowS3.port())), false, hooks)
                .await();
    }

    private static TcpProxy slowS3() {
        return TcpProxy.slow(URI.create(TestStack.config().s3().endpoint()).getPort(), 200);
    }

    @Test
    @DisplayName("A failed upload's answer comes once it is undone: a retry under its Idempotency-Key is taken"
            + " (201), not 409")
    void uploadRetryOnTheFailureIsTaken() {
        String tenant = TestStack.unique("retry");
        try (TcpProxy slowS3 = slowS3()) {
            Node node = slowS3Node(slowS3, failFirst(tenant, Kind.UPLOAD));
            try (Http http = new Http(node.vertx(), node.httpPort())) {
                HttpResponse<Buffer> failed = http.upload(tenant, "plan.txt", "text/plain", utf8("a plan"), "plan-1");
                assertThat(failed.statusCode()).as(failed.bodyAsString()).isEqualTo(503);
                HttpResponse<Buffer> retried = http.upload(tenant, "plan.txt", "text/plain", utf8("a plan"), "plan-1");
                assertThat(retried.statusCode()).as(retried.bodyAsString()).isEqualTo(201);
            } finally {
                node.stop().await();
            }
        }
    }

    @Test
    @DisplayName("A failed new version's answer comes once it is undone: a retry sent on it is taken (200), not 409")
    void replaceRetryOnTheFailureIsTaken() {
        String tenant = TestStack.unique("retry");
        try (TcpProxy slowS3 = slowS3()) {
            Node node = slowS3Node(slowS3, failFirst(tenant, Kind.REPLACE));
            try (Http http = new Http(node.vertx(), node.httpPort())) {
                HttpResponse<Buffer> created = http.upload(tenant, "plan.txt", "text/plain", utf8("first plan"), null);
                assertThat(created.statusCode()).as(created.bodyAsString()).isEqualTo(201);
                String path = "/api/files/" + created.bodyAsJsonObject().getString("id") + "/content?user_id=" + tenant;
                HttpResponse<Buffer> failed = http.replace(path, "plan.txt", "text/plain", utf8("second plan"), null);
                assertThat(failed.statusCode()).as(failed.bodyAsString()).isEqualTo(503);
                HttpResponse<Buffer> retried = http.replace(path, "plan.txt", "text/plain", utf8("second plan"), null);
                assertThat(retried.statusCode()).as(retried.bodyAsString()).isEqualTo(200);
                assertThat(retried.bodyAsJsonObject().getInteger("version")).isEqualTo(2);
            } finally {
                node.stop().await();
            }
        }
    }

    @Test
    @DisplayName("A failed upload whose undo outlives the answer's deadline is not promised 202 meanwhile (a 202"
            + " recorded after its undo began was undone under its client): answered 503, nothing left")
    void noPromiseWhileUndoing() {
        String tenant = TestStack.unique("undoing");
        // Qdrant answers 1.5 s late: the undo's point removal outlives the 1 s deadline; nothing before
        // the hook's failure asks Qdrant.
        try (TcpProxy slowQdrant = TcpProxy.slow(TestStack.config().qdrant().port(), 1_500)) {
            Node node = Node.start(
                            TestStack.nodeConfig(Map.of(
                                    "QDRANT_PORT",
                                    String.valueOf(slowQdrant.port()),
                                    "INGEST_ANSWER_WITHIN_SECONDS",
                                    "1")),
                            false,
                            failFirst(tenant, Kind.UPLOAD))
                    .await();
            try (Http http = new Http(node.vertx(), node.httpPort())) {
                HttpResponse<Buffer> answered = http.upload(tenant, "lost.txt", "text/plain", utf8("a plan"), null);
                // 202 `completing` before: recorded as promised while the undo ran, then undone.
                assertThat(answered.statusCode()).as(answered.bodyAsString()).isEqualTo(503);
                assertThat(node.stores()
                                .metadata()
                                .count(FileQuery.tenant(tenant))
                                .await())
                        .isZero();
            } finally {
                node.stop().await();
            }
        }
    }
}
