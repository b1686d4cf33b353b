package io.trisync.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.trisync.Node;
import io.trisync.ingest.IngestHooks;
import io.trisync.store.IngestOperation;
import io.trisync.store.IngestOperation.Kind;
import io.trisync.store.IngestOperation.Step;
import io.trisync.testsupport.Fixtures;
import io.trisync.testsupport.Http;
import io.trisync.testsupport.TestStack;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.ext.web.client.WebClient;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The idle timeout is for a body that stops arriving and a connection with nothing in flight, never
 * for a request without a body whose answer takes long: a DELETE held in the store pipeline for
 * three idle periods is still answered 200.
 */
@Timeout(120)
class SlowAnswerIT {

    @Test
    @DisplayName("A DELETE (no body) whose answer takes three idle periods is answered 200, not 408")
    void slowAnswerWithoutBodyIsNotATimeout() {
        String tenant = TestStack.unique("slow");
        Promise<Void> reached = Promise.promise();
        Promise<Void> release = Promise.promise();
        IngestHooks hold = (IngestOperation op, Step step) -> {
            if (op.kind() == Kind.DELETE
                    && step == Step.METADATA_DELETED
                    && op.tenantId().equals(tenant)) {
                reached.tryComplete();
                return release.future();
            }
            return Future.succeededFuture();
        };
        Node node = Node.start(TestStack.nodeConfig(Map.of("HTTP_IDLE_TIMEOUT_SECONDS", "1")), false, hold)
                .await();
        WebClient web = WebClient.create(node.vertx());
        try (Http http = new Http(node.vertx(), node.httpPort())) {
            var up = http.upload(tenant, "slow.txt", "text/plain", Fixtures.utf8(Fixtures.prose(40)), null);
            assertThat(up.statusCode()).as(up.bodyAsString()).isEqualTo(201);
            String id = up.bodyAsJsonObject().getString("id");
            var deleted = web.delete(node.httpPort(), "127.0.0.1", "/api/files/" + id + "?user_id=" + tenant)
                    .send();
            reached.future().await();
            // Held past three idle periods (the sweep runs every quarter of one), then let go.
            long held = System.nanoTime();
            node.vertx().timer(3_000).await();
            release.complete();
            var answer = deleted.await();
            assertThat(System.nanoTime() - held).isGreaterThan(3_000_000_000L);
            assertThat(answer.statusCode()).as(answer.bodyAsString()).isEqualTo(200);
            assertThat(answer.bodyAsJsonObject().getString("status")).isEqualTo("deleted");
        } finally {
            web.close();
            node.stop().await();
        }
    }
}
