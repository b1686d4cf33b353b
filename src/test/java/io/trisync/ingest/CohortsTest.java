package io.trisync.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import io.trisync.ingest.IngestMessages.CompleteUploads;
import io.trisync.ingest.IngestMessages.Completion;
import io.trisync.ingest.IngestMessages.Completions;
import io.trisync.ingest.IngestMessages.OperationRef;
import io.trisync.testsupport.Await;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * When a receiving node sends its completions, and together with which: a local consumer stands in
 * for the ingest verticle on {@link IngestAddresses#COMPLETE_UPLOADS} (the bus is real; no store is
 * involved) and answers each member, the one named "refused" with a 409.
 */
class CohortsTest {

    private Vertx vertx;
    private Cohorts cohorts;
    /** The opIds of each request the consumer got, in order. */
    private final List<List<String>> requests = new CopyOnWriteArrayList<>();

    @BeforeEach
    void start() {
        vertx = Vertx.vertx();
        // A linger no test waits out, except the one about the linger: counts are read without racing it.
        cohorts = Cohorts.lingering(vertx, 600_000);
        vertx.eventBus()
                .<JsonObject>consumer(IngestAddresses.COMPLETE_UPLOADS, message -> {
                    List<OperationRef> members =
                            CompleteUploads.fromJson(message.body()).uploads();
                    requests.add(members.stream().map(OperationRef::opId).toList());
                    message.reply(new Completions(members.stream()
                                    .map(ref -> ref.opId().equals("refused")
                                            ? Completion.failed(409, "refused by the test")
                                            : Completion.done(new JsonObject().put("id", ref.opId())))
                                    .toList())
                            .toJson());
                })
                .completion()
                .await();
    }

    @AfterEach
    void stop() {
        vertx.close().await();
    }

    private Future<JsonObject> complete(String opId, long size) {
        return cohorts.complete(new OperationRef(opId, null), size);
    }

    @Test
    @DisplayName("An upload with no other of the node writing its blob is sent at once, alone")
    void loneUploadGoesAtOnce() {
        cohorts.writing(100);
        Future<JsonObject> done = complete("lone", 100);
        assertThat(cohorts.sent())
                .as("requests and members sent, as complete returns")
                .containsExactly(1, 1);
        assertThat(done.await().getString("id")).isEqualTo("lone");
        assertThat(requests).containsExactly(List.of("lone"));
    }

    @Test
    @DisplayName(
            "An upload waits for the others still writing and goes with them in one request; each gets its own outcome")
    void waitsForThoseOnTheirWay() {
        cohorts.writing(100);
        cohorts.writing(100);
        cohorts.writing(100);
        Future<JsonObject> first = complete("first", 100);
        Future<JsonObject> refused = complete("refused", 100);
        assertThat(cohorts.sent()).as("nothing sent while one is still writing").containsExactly(0, 0);
        Future<JsonObject> last = complete("last", 100);
        assertThat(cohorts.sent()).containsExactly(1, 3);
        assertThat(first.await().getString("id")).isEqualTo("first");
        assertThat(last.await().getString("id")).isEqualTo("last");
        refused.transform(Future::succeededFuture).await();
        assertThat(refused.cause()).isInstanceOfSatisfying(ReplyException.class, e -> assertThat(e.failureCode())
                .isEqualTo(409));
        assertThat(requests).containsExactly(List.of("first", "refused", "last"));
    }

    @Test
    @DisplayName("An upload whose blob was not written releases the ones waiting for it")
    void leftReleasesTheWaiting() {
        cohorts.writing(100);
        cohorts.writing(100);
        Future<JsonObject> first = complete("first", 100);
        assertThat(cohorts.sent()).containsExactly(0, 0);
        cohorts.left(100);
        assertThat(cohorts.sent()).containsExactly(1, 1);
        assertThat(first.await().getString("id")).isEqualTo("first");
    }

    @Test
    @DisplayName("A large upload is not awaited and goes alone; small ones wait at most the linger")
    void largeGoesAloneAndTheLingerEnds() {
        cohorts = Cohorts.lingering(vertx, 200);
        long large = Cohorts.AWAITED_BYTES + 1;
        cohorts.writing(large);
        cohorts.writing(100);
        cohorts.writing(100);
        Future<JsonObject> small = complete("small", 100);
        Future<JsonObject> big = complete("big", large);
        assertThat(cohorts.sent()).as("the large one, at once and alone").containsExactly(1, 1);
        assertThat(big.await().getString("id")).isEqualTo("big");
        // The other small one never comes: the first is sent when the linger ends.
        Await.until("the lingering upload to be sent", 5_000, small::isComplete);
        assertThat(small.result().getString("id")).isEqualTo("small");
        assertThat(requests).containsExactly(List.of("big"), List.of("small"));
    }
}
