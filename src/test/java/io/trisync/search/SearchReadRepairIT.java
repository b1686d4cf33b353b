package io.trisync.search;

import static org.assertj.core.api.Assertions.assertThat;

import io.trisync.Node;
import io.trisync.ingest.IngestHooks;
import io.trisync.store.IngestOperation;
import io.trisync.store.MongoMetadataStore;
import io.trisync.testsupport.Await;
import io.trisync.testsupport.Fixtures;
import io.trisync.testsupport.Http;
import io.trisync.testsupport.TestStack;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.MongoClient;
import io.vertx.ext.web.client.WebClient;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Read repair, both halves: with {@code SYNC_AUTO_REPAIR} on, the vectors of a file whose record was
 * removed behind trisync's back are left out of a search, recorded as {@code ORPHAN_VECTORS}, and
 * then removed by an automatic repair, with no scan run.
 */
@Timeout(120)
class SearchReadRepairIT {

    @Test
    @DisplayName("A search that leaves orphan vectors out has them repaired away when auto-repair is on")
    void excludedHitsAreRepaired() {
        Node node = Node.start(TestStack.nodeConfig(Map.of("SYNC_AUTO_REPAIR", "true")), false)
                .await();
        String tenant = TestStack.unique("read-repair");
        try (Http http = new Http(node.vertx(), node.httpPort())) {
            String orphan = http.upload(
                            tenant, "whales.txt", "text/plain", Fixtures.utf8(SearchIT.TOPICS.get("whales")), null)
                    .bodyAsJsonObject()
                    .getString("id");
            MongoClient mongo = MongoClient.create(
                    node.vertx(), MongoMetadataStore.clientConfig(node.config().mongo()));
            try {
                mongo.removeDocument("files", new JsonObject().put("_id", orphan))
                        .await();
                // Its upload gone too (the log's retention): no record can be rebuilt, its points are orphans.
                mongo.removeDocuments("ingest_ops", new JsonObject().put("fileId", orphan))
                        .await();
            } finally {
                mongo.close().await();
            }
            assertThat(node.stores().vectors().count(tenant, orphan).await()).isPositive();
            JsonObject answer = searchWhales(http, tenant);
            assertThat(answer.getJsonArray("results")).isEmpty();
            assertThat(answer.getInteger("excluded")).isEqualTo(1);
            Await.until(
                    "the automatic repair to remove the orphan vectors",
                    30_000,
                    () -> node.stores().vectors().count(tenant, orphan).await() == 0);
            // The repair re-checks the file and settles its issues: the orphan vectors are no longer one.
            Await.until(
                    "the ORPHAN_VECTORS issue to be resolved",
                    30_000,
                    () -> node.stores().issues().openFor(tenant, 10).await().stream()
                            .noneMatch(i -> i.type().equals("ORPHAN_VECTORS")));
        } finally {
            node.stop().await();
        }
    }

    @Test
    @DisplayName("A search that leaves out the points of a file whose record was lost by hand keeps them: the"
            + " automatic repair refuses to delete the points of a file its upload can restore")
    void pointsOfARestorableFileAreKept() {
        Node node = Node.start(TestStack.nodeConfig(Map.of("SYNC_AUTO_REPAIR", "true")), false)
                .await();
        String tenant = TestStack.unique("read-repair-kept");
        try (Http http = new Http(node.vertx(), node.httpPort())) {
            String lost = http.upload(
                            tenant, "whales.txt", "text/plain", Fixtures.utf8(SearchIT.TOPICS.get("whales")), null)
                    .bodyAsJsonObject()
                    .getString("id");
            long points = node.stores().vectors().count(tenant, lost).await();
            MongoClient mongo = MongoClient.create(
                    node.vertx(), MongoMetadataStore.clientConfig(node.config().mongo()));
            try {
                mongo.removeDocument("files", new JsonObject().put("_id", lost)).await();
            } finally {
                mongo.close().await();
            }
            assertThat(searchWhales(http, tenant).getInteger("excluded")).isEqualTo(1);
            String repair = Await.value(
                    "the automatic repair to end",
                    30_000,
                    () -> http
                            .get("/api/v1/sync/operations?limit=10&tenant_id=" + tenant)
                            .bodyAsJsonObject()
                            .getJsonArray("operations")
                            .stream()
                            .map(o -> (JsonObject) o)
                            .filter(o ->
                                    "repair".equals(o.getString("kind")) && !"running".equals(o.getString("status")))
                            .map(o -> o.getString("id"))
                            .findFirst()
                            .orElse(null),
                    id -> id != null);
            JsonObject action = http.get("/api/sync/fix/" + repair)
                    .bodyAsJsonObject()
                    .getJsonArray("actions")
                    .getJsonObject(0);
            assertThat(action.getString("action")).isEqualTo("DELETE_POINTS");
            assertThat(action.getString("status")).isEqualTo("failed");
            assertThat(action.getString("reason")).contains("can be rebuilt from its upload");
            assertThat(node.stores().vectors().count(tenant, lost).await()).isEqualTo(points);
        } finally {
            node.stop().await();
        }
    }

    @Test
    @DisplayName("A search during a delete leaves the file out but records no issue: a delete halfway is not an"
            + " inconsistency")
    void searchDuringADeleteRecordsNothing() {
        String tenant = TestStack.unique("mid-delete");
        Promise<Void> reached = Promise.promise();
        Promise<Void> release = Promise.promise();
        IngestHooks hold = (op, step) -> op.kind() == IngestOperation.Kind.DELETE
                        && step == IngestOperation.Step.METADATA_DELETED
                        && op.tenantId().equals(tenant)
                ? Future.<Void>succeededFuture().compose(v -> {
                    reached.tryComplete();
                    return release.future();
                })
                : Future.succeededFuture();
        Node node = Node.start(TestStack.nodeConfig(Map.of()), false, hold).await();
        WebClient web = WebClient.create(node.vertx());
        try (Http http = new Http(node.vertx(), node.httpPort())) {
            String id = http.upload(
                            tenant, "whales.txt", "text/plain", Fixtures.utf8(SearchIT.TOPICS.get("whales")), null)
                    .bodyAsJsonObject()
                    .getString("id");
            var deleting = web.delete(node.httpPort(), "127.0.0.1", "/api/files/" + id + "?user_id=" + tenant)
                    .send();
            reached.future().await();
            // The record is marked deleted, the points are still there.
            assertThat(node.stores().vectors().count(tenant, id).await()).isPositive();
            JsonObject answer = searchWhales(http, tenant);
            assertThat(answer.getJsonArray("results")).isEmpty();
            assertThat(answer.getInteger("excluded")).isEqualTo(1);
            release.complete();
            assertThat(deleting.await().statusCode()).isEqualTo(200);
            assertThat(node.stores().issues().openFor(tenant, 10).await()).isEmpty();
            assertThat(node.stores().events().recent(tenant, 100).await().stream()
                            .filter(e -> e.type().equals("sync.issue_detected")))
                    .isEmpty();
        } finally {
            web.close();
            node.stop().await();
        }
    }

    private static JsonObject searchWhales(Http http, String tenant) {
        return http.post(
                        "/api/search",
                        "application/json",
                        new JsonObject()
                                .put("user_id", tenant)
                                .put("query", "whales in the ocean")
                                .toBuffer())
                .bodyAsJsonObject();
    }
}
