package io.trisync.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.trisync.Node;
import io.trisync.bus.ClusterBus;
import io.trisync.config.TrisyncConfig;
import io.trisync.scan.ScanAddresses;
import io.trisync.store.StoreKeys;
import io.trisync.testsupport.Await;
import io.trisync.testsupport.Fixtures;
import io.trisync.testsupport.TestStack;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Two clustered nodes (Hazelcast, TCP-IP on loopback): the second points at the first's embedded stores. */
@Timeout(180)
class ClusterIT {

    @Test
    @DisplayName("Two clustered nodes exchange a request and its reply over the event bus, both ways")
    void requestReplyAcrossNodes() {
        TrisyncConfig first = TestStack.config(Map.of("NODE_ID", "node-a"));
        Node a = Node.start(first, true).await();
        Node b = null;
        try {
            TrisyncConfig stores = a.config();
            TrisyncConfig second = TestStack.joining(stores, Map.of("NODE_ID", "node-b"));
            b = Node.start(second, true).await();
            assertThat(b.config().needsEmbeddedStack()).isFalse();

            a.vertx()
                    .eventBus()
                    .<JsonObject>consumer(
                            "trisync.test.echo",
                            m -> m.reply(new JsonObject()
                                    .put("node", "node-a")
                                    .put("echo", m.body().getString("text"))));
            b.vertx()
                    .eventBus()
                    .<JsonObject>consumer("trisync.test.echo-b", m -> m.reply(new JsonObject().put("node", "node-b")));
            awaitRegistration(b, "trisync.test.echo");
            awaitRegistration(a, "trisync.test.echo-b");

            JsonObject reply = b.vertx()
                    .eventBus()
                    .<JsonObject>request("trisync.test.echo", new JsonObject().put("text", "ping"))
                    .await()
                    .body();
            assertThat(reply.getString("node")).isEqualTo("node-a");
            assertThat(reply.getString("echo")).isEqualTo("ping");
            JsonObject back = a.vertx()
                    .eventBus()
                    .<JsonObject>request("trisync.test.echo-b", new JsonObject())
                    .await()
                    .body();
            assertThat(back.getString("node")).isEqualTo("node-b");
        } finally {
            if (b != null) {
                b.stop().await();
            }
            a.stop().await();
        }
    }

    @Test
    @DisplayName("One scan's partitions are spread over both clustered nodes, and the report is whole")
    void scanPartitionsSpreadOverNodes() {
        TrisyncConfig first = TestStack.config(Map.of("NODE_ID", "scan-a", "SYNC_PARTITIONS", "16"));
        Node a = Node.start(first, true).await();
        Node b = null;
        try {
            TrisyncConfig stores = a.config();
            b = Node.start(
                            TestStack.joining(
                                    stores,
                                    Map.of(
                                            "NODE_ID", "scan-b",
                                            "SYNC_PARTITIONS", "16")),
                            true)
                    .await();
            String tenant = TestStack.unique("spread");
            for (int i = 0; i < 40; i++) {
                String id = Fixtures.fileId("orphan-" + i);
                a.stores()
                        .blobs()
                        .putBytes(
                                StoreKeys.blobKey(tenant, StoreKeys.partition(id, 16), id),
                                Buffer.buffer("x"),
                                "text/plain",
                                Map.of())
                        .await();
            }
            JsonObject report = null;
            long deadline = System.currentTimeMillis() + 30_000;
            do {
                report = a.vertx()
                        .eventBus()
                        .<JsonObject>request(
                                ScanAddresses.ANALYZE,
                                new JsonObject().put("tenantId", tenant).put("mode", "full"))
                        .await()
                        .body();
            } while (report.getJsonObject("scanned_by").size() < 2 && System.currentTimeMillis() < deadline);
            assertThat(report.getJsonObject("scanned_by").fieldNames()).containsExactlyInAnyOrder("scan-a", "scan-b");
            assertThat(report.getJsonObject("scanned_by").stream()
                            .mapToLong(e -> ((Number) e.getValue()).longValue())
                            .sum())
                    .isEqualTo(16);
            // Orphans are issues, not files: the tenant has no file.
            assertThat(report.getJsonObject("summary").getLong("total_files")).isZero();
            assertThat(report.getJsonObject("summary")
                            .getJsonObject("issues_by_type")
                            .getLong("ORPHAN_BLOB"))
                    .isEqualTo(40);
        } finally {
            if (b != null) {
                b.stop().await();
            }
            a.stop().await();
        }
    }

    @Test
    @DisplayName("Two addresses asked in turn (as an upload's begin and completion are) are each spread over both"
            + " nodes that serve them")
    void alternatingAddressesEachSpread() {
        Node a = Node.start(TestStack.config(Map.of("NODE_ID", "turn-a")), true).await();
        Node b = null;
        try {
            b = Node.start(TestStack.joining(a.config(), Map.of("NODE_ID", "turn-b")), true)
                    .await();
            List<String> addresses = List.of("trisync.test.first", "trisync.test.second");
            for (Node node : List.of(a, b)) {
                String name = node.config().nodeId();
                for (String address : addresses) {
                    ClusterBus.of(node.vertx())
                            .serve(address, body -> Future.succeededFuture(new JsonObject().put("node", name)))
                            .ready()
                            .await();
                }
            }
            ClusterBus bus = ClusterBus.of(a.vertx());
            Map<String, Set<String>> answeredBy = new HashMap<>();
            Await.until("each address to be known on both nodes", 30_000, () -> {
                answeredBy.clear();
                for (int i = 0; i < 4; i++) {
                    for (String address : addresses) {
                        String node = bus.request(address, new JsonObject(), 5_000, ClusterBus.Target.SPREAD, true)
                                .await()
                                .getString("node");
                        answeredBy
                                .computeIfAbsent(address, k -> new TreeSet<>())
                                .add(node);
                    }
                }
                return addresses.stream()
                        .allMatch(address -> answeredBy.get(address).size() == 2);
            });
            assertThat(answeredBy).containsEntry("trisync.test.first", Set.of("turn-a", "turn-b"));
            assertThat(answeredBy).containsEntry("trisync.test.second", Set.of("turn-a", "turn-b"));
        } finally {
            if (b != null) {
                b.stop().await();
            }
            a.stop().await();
        }
    }

    /** Subscriptions propagate through the cluster asynchronously; retry until the address answers. */
    private static void awaitRegistration(Node from, String address) {
        long deadline = System.currentTimeMillis() + 20_000;
        while (true) {
            try {
                from.vertx()
                        .eventBus()
                        .request(address, new JsonObject().put("text", "probe"))
                        .await();
                return;
            } catch (RuntimeException e) {
                if (System.currentTimeMillis() > deadline) {
                    throw e;
                }
            }
        }
    }
}
