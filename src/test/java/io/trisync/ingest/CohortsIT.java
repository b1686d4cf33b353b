package io.trisync.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.trisync.Node;
import io.trisync.failure.Failure;
import io.trisync.store.IngestOperation;
import io.trisync.store.Stores;
import io.trisync.testsupport.Await;
import io.trisync.testsupport.Http;
import io.trisync.testsupport.TestStack;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Uploads completed in cohorts ({@link Cohorts}): several in one request to the ingest verticle,
 * each with its own outcome. One member that fails part way (after its record and points were
 * written) is refused and undone while the others of its cohort are acknowledged, all read back
 * through the stores' clients.
 */
@Timeout(300)
class CohortsIT {

    /** A member whose name starts so fails after its record and points are written. */
    private static final String FAILING = "fails-part-way-";

    /** Rounds of four uploads sent at once, until the failing one shares a cohort (most rounds it does). */
    private static final int ROUNDS = 50;

    private final String tenant = TestStack.unique("cohort");
    /** Each cohort request's members: name → operation document. */
    private final List<Map<String, JsonObject>> cohorts = new CopyOnWriteArrayList<>();

    private Node node;
    private Stores stores;
    private Http http;

    @BeforeEach
    void start() {
        node = Node.start(
                        TestStack.nodeConfig(Map.of()),
                        false,
                        (op, step) -> op.name().startsWith(FAILING) && step == IngestOperation.Step.METADATA_WRITTEN
                                ? Future.failedFuture(new Failure.Conflict("refused by the test after its writes"))
                                : Future.succeededFuture())
                .await();
        stores = node.stores();
        http = new Http(node.vertx(), node.httpPort());
        node.vertx().eventBus().addOutboundInterceptor(delivery -> {
            if (IngestAddresses.COMPLETE_UPLOADS.equals(delivery.message().address())
                    && delivery.message().body() instanceof JsonObject body) {
                Map<String, JsonObject> members = new HashMap<>();
                body.getJsonArray("uploads").forEach(ref -> {
                    JsonObject op = ((JsonObject) ref).getJsonObject("operation");
                    members.put(op.getString("name"), op);
                });
                cohorts.add(members);
            }
            delivery.next();
        });
    }

    @AfterEach
    void stop() {
        http.close();
        node.stop().await();
    }

    @Test
    @DisplayName(
            "A member of a cohort that fails after its writes is refused and leaves nothing; the others of its cohort are acknowledged and stored")
    void memberFailsPartWay() throws Exception {
        ExecutorService clients = Executors.newFixedThreadPool(4);
        try {
            // Uploads sent together meet in a cohort when their blobs are written at about the same
            // moment; a round where the failing one went alone is tried again.
            for (int round = 0; round < ROUNDS; round++) {
                Map<String, HttpResponse<Buffer>> answers = round(clients, round);
                String failing = FAILING + round + ".txt";
                Map<String, JsonObject> cohort = cohorts.stream()
                        .filter(c -> c.containsKey(failing) && c.size() > 1)
                        .findFirst()
                        .orElse(null);
                if (cohort == null) {
                    continue;
                }
                for (Map.Entry<String, JsonObject> member : cohort.entrySet()) {
                    check(member.getKey(), member.getValue(), answers.get(member.getKey()));
                }
                return;
            }
            throw new AssertionError("in " + ROUNDS + " rounds the failing upload never shared a cohort: " + cohorts);
        } finally {
            clients.shutdownNow();
        }
    }

    /** Sends four uploads at once, one of them failing; their answers by name. */
    private Map<String, HttpResponse<Buffer>> round(ExecutorService clients, int round) {
        List<String> names = new ArrayList<>();
        for (String name : List.of("a-", FAILING, "b-", "c-")) {
            names.add(name + round + ".txt");
        }
        Map<String, CompletableFuture<HttpResponse<Buffer>>> sent = new HashMap<>();
        for (String name : names) {
            byte[] body = ("the content of " + name + ", round " + round).getBytes(StandardCharsets.UTF_8);
            sent.put(
                    name,
                    CompletableFuture.supplyAsync(() -> http.upload(tenant, name, "text/plain", body, null), clients));
        }
        Map<String, HttpResponse<Buffer>> answers = new HashMap<>();
        sent.forEach((name, answer) -> answers.put(name, answer.join()));
        return answers;
    }

    private void check(String name, JsonObject begun, HttpResponse<Buffer> answer) {
        IngestOperation op = IngestOperation.fromDocument(begun);
        if (name.startsWith(FAILING)) {
            assertThat(answer.statusCode())
                    .as("%s: %s", name, answer.bodyAsString())
                    .isEqualTo(409);
            assertThat(answer.bodyAsString()).contains("refused by the test");
            // The refusal is answered with the cohort; the undo that follows ends the operation ABORTED.
            Await.until(
                    "the failed member to be undone",
                    30_000,
                    () -> stores.operations().get(op.id()).await().step() == IngestOperation.Step.ABORTED);
            assertThatThrownBy(() -> stores.metadata().get(op.fileId()).await())
                    .as("the failed member's record")
                    .isInstanceOf(Failure.NotFound.class);
            assertThat(stores.vectors().count(tenant, op.fileId()).await())
                    .as("points of the failed member")
                    .isZero();
            assertThatThrownBy(() -> stores.blobs().head(op.blobKey()).await())
                    .as("the failed member's blob")
                    .isInstanceOf(Failure.NotFound.class);
        } else {
            assertThat(answer.statusCode())
                    .as("%s: %s", name, answer.bodyAsString())
                    .isEqualTo(201);
            assertThat(answer.bodyAsJsonObject().getString("id")).isEqualTo(op.fileId());
            Await.until(
                    name + "'s operation to end",
                    10_000,
                    () -> stores.operations().get(op.id()).await().step() == IngestOperation.Step.DONE);
            assertThat(stores.metadata().get(op.fileId()).await().name()).isEqualTo(name);
            assertThat(stores.vectors().count(tenant, op.fileId()).await()).isPositive();
            assertThat(stores.blobs().head(op.blobKey()).await().size()).isEqualTo(op.size());
        }
    }
}
