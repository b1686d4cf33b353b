package io.trisync.embedding;

import static org.assertj.core.api.Assertions.assertThat;

import com.microsoft.playwright.BrowserContext;
import com.microsoft.playwright.Dialog;
import com.microsoft.playwright.Page;
import com.microsoft.playwright.options.WaitForSelectorState;
import io.trisync.Node;
import io.trisync.browser.Chromium;
import io.trisync.config.TrisyncConfig;
import io.trisync.store.ChunkPoint;
import io.trisync.store.QdrantVectorStore;
import io.trisync.store.VectorSpaces;
import io.trisync.testsupport.Await;
import io.trisync.testsupport.EmbeddingServer;
import io.trisync.testsupport.Fixtures;
import io.trisync.testsupport.Http;
import io.trisync.testsupport.RestartableStores;
import io.trisync.testsupport.TestStack;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Changes of embedding model that fill a new collection beside the serving one: of dimension (the
 * local 384-dimension model to an OpenAI-compatible one of 768, served by the test on loopback), and
 * of model at the same dimension with {@code EMBEDDING_MODEL_CHANGE=side_by_side} (the default). The
 * node starts instead of failing on Qdrant's dimension check, makes a new collection beside the old
 * one, keeps serving search from the old one (queries embedded by the old model) while re-index
 * operations fill the new one, switches only when every tenant's files are re-embedded, and then
 * searches the new one; nothing is left stale and the old collection stays until purged. Each test
 * has its own MongoDB database and collection name, so no other test sees the change.
 */
@Timeout(300)
class ModelChangeIT {

    private static final String MODEL = "dim-test";
    private static final String NEW_MODEL = MODEL + "@768";

    @Test
    @DisplayName("384 → 768 dimensions: old collection serves until every tenant is re-indexed, then the new one")
    void dimensionChange() {
        String collection = TestStack.unique("dims").replace('-', '_');
        Map<String, String> shared = Map.of("MONGO_DB", TestStack.unique("dims"), "QDRANT_COLLECTION", collection);
        String alpha = TestStack.unique("alpha");
        String beta = TestStack.unique("beta");
        Map<String, List<String>> files = uploadThreeEach(TestStack.nodeConfig(shared), alpha, beta);
        Node node;

        try (EmbeddingServer server = new EmbeddingServer(768)) {
            Map<String, String> env = new HashMap<>(shared);
            env.putAll(server.nodeEnv(MODEL));
            env.put("QDRANT_VECTOR_SIZE", "768");
            node = Node.start(TestStack.nodeConfig(env), false).await();
            // A restart during the change leaves the pointer as it was.
            long generation = node.stores().vectors().spaces().generation();
            node.stop().await();
            node = Node.start(TestStack.nodeConfig(env), false).await();
            assertThat(node.stores().vectors().spaces().generation()).isEqualTo(generation);
            try (Http http = new Http(node.vertx(), node.httpPort())) {
                VectorSpaces.Space retiring = node.stores().vectors().retiring();
                assertThat(retiring).as("a change of dimension under way").isNotNull();
                assertThat(retiring.collection()).isEqualTo(collection);
                assertThat(retiring.dims()).isEqualTo(384);
                String fresh = collection + "__768d";
                assertThat(sizeOf(node, fresh))
                        .as("the new collection, made beside")
                        .isEqualTo(768);

                // Before any re-index: the old collection's files are found, the query embedded locally for
                // it and by the new model for the new collection (still empty).
                int embedded = server.inputs().size();
                assertThat(hits(http, alpha, "whales and krill")).isNotEmpty();
                assertThat(server.inputs().size())
                        .as("texts sent to the new model by a search")
                        .isEqualTo(embedded + 1);
                // An upload now gets the new model's vectors (in the new collection).
                String late = upload(http, alpha, Fixtures.prose(80) + " a late file about volcanoes");
                assertThat(node.stores()
                                .metadata()
                                .get(late)
                                .await()
                                .embedding()
                                .model())
                        .isEqualTo(NEW_MODEL);
                // A new version of a file during the change: its new vectors (the new model's, in the new
                // collection) survive the removal of the old version's points.
                String replaced = files.get(alpha).get(0);
                HttpResponse<Buffer> put = http.replace(
                        "/api/files/" + replaced + "/content?user_id=" + alpha,
                        "doc.txt",
                        "text/plain",
                        Fixtures.utf8(Fixtures.prose(90) + " whales again, second version"),
                        null);
                assertThat(put.statusCode()).as(put.bodyAsString()).isEqualTo(200);
                int chunks = node.stores()
                        .metadata()
                        .get(replaced)
                        .await()
                        .embedding()
                        .chunks();
                assertThat(count(node, fresh, 768, alpha, replaced))
                        .as("the new version's points in the new collection")
                        .isEqualTo(chunks);
                assertThat(count(node, collection, 384, alpha, replaced))
                        .as("the old version's points in the old collection")
                        .isZero();
                // Both are found before the switch: search reads both collections during the change.
                assertThat(hits(http, alpha, "a late file about volcanoes").stream()
                                .map(h -> ((JsonObject) h).getString("file_id")))
                        .as("the file uploaded during the change, before the switch")
                        .contains(late, replaced);
                // A delete during the change removes the file from both collections.
                String gone = files.get(beta).remove(2);
                assertThat(http.delete("/api/files/" + gone + "?user_id=" + beta)
                                .statusCode())
                        .isEqualTo(200);
                assertThat(count(node, collection, 384, beta, gone) + count(node, fresh, 768, beta, gone))
                        .isZero();
                JsonArray stale = analyze(http, alpha).getJsonArray("issues");
                assertThat(stale.stream().map(i -> ((JsonObject) i).getString("type")))
                        .as("issues before the re-index: %s", stale)
                        .hasSize(2)
                        .allMatch("STALE_VECTORS"::equals);

                JsonObject first = reindex(http, alpha);
                assertThat(first.getLong("stale_after")).isZero();
                assertThat(first.getLong("switch_waits_for"))
                        .as("beta's files: %s", first)
                        .isEqualTo(2);
                assertThat(node.stores().vectors().retiring())
                        .as("no switch before every tenant")
                        .isNotNull();
                embedded = server.inputs().size();
                assertThat(hits(http, alpha, "whales and krill")).isNotEmpty();
                assertThat(server.inputs().size()).isEqualTo(embedded + 1);
                assertThat(analyze(http, alpha).getJsonArray("issues")).isEmpty();

                JsonObject second = reindex(http, beta);
                assertThat(second.getString("switched_to")).as("%s", second).isEqualTo(fresh);
                assertThat(second.getString("retired_collection")).isEqualTo(collection);
                assertThat(node.stores().vectors().retiring()).isNull();

                // After the switch: the new collection serves, queries go to the new model.
                embedded = server.inputs().size();
                JsonArray after = hits(http, alpha, "whales and krill");
                assertThat(server.inputs().size()).isEqualTo(embedded + 1);
                assertThat(after.stream().map(h -> ((JsonObject) h).getString("file_id")))
                        .containsAnyElementsOf(files.get(alpha));
                assertThat(hits(http, alpha, "a late file about volcanoes").stream()
                                .map(h -> ((JsonObject) h).getString("file_id")))
                        .as("the file uploaded during the change, after the switch")
                        .contains(late);
                for (String tenant : List.of(alpha, beta)) {
                    assertThat(analyze(http, tenant).getJsonArray("issues"))
                            .as("issues of %s after the switch", tenant)
                            .isEmpty();
                    for (String id : files.get(tenant)) {
                        assertThat(count(node, fresh, 768, tenant, id))
                                .as("points of %s", id)
                                .isPositive();
                        List<ChunkPoint> points =
                                node.stores().vectors().pointsOf(tenant, id).await();
                        assertThat(points).isNotEmpty().allMatch(p -> p.model().equals(NEW_MODEL));
                    }
                }
                // A node still configured for the old dimension refuses to start a change back.
                Throwable refused = refusal(shared);
                assertThat(refused).as("an old-dimension node after the switch").isNotNull();
                assertThat(refused.getMessage()).contains("purge", collection);
                assertThat(node.stores().vectors().refresh().await().generation())
                        .as("the refused node wrote nothing")
                        .isEqualTo(node.stores().vectors().spaces().generation());

                // An erasure after the switch leaves nothing of the tenant in the retired collection either.
                assertThat(count(node, collection, 384, beta, null)).isPositive();
                HttpResponse<Buffer> erase = http.delete("/api/tenants/" + beta);
                assertThat(erase.statusCode()).as(erase.bodyAsString()).isEqualTo(202);
                Await.until("the erasure of beta", 60_000, () -> "erased"
                        .equals(Http.json(http.get("/api/tenants/" + beta)).getString("state")));
                assertThat(count(node, collection, 384, beta, null))
                        .as("beta in the retired collection")
                        .isZero();

                assertThat(sizeOf(node, collection))
                        .as("the old collection, until purged")
                        .isEqualTo(384);
                JsonObject spaces = Http.json(http.get("/api/vector-collections"));
                assertThat(spaces.getJsonObject("serving").getString("collection"))
                        .isEqualTo(fresh);
                assertThat(spaces.getValue("target")).isNull();
                assertThat(spaces.getJsonArray("retired").getJsonObject(0).getString("collection"))
                        .as("%s", spaces)
                        .isEqualTo(collection);
                assertThat(http.delete("/api/vector-collections/" + fresh).statusCode())
                        .as("the serving collection is not purged")
                        .isEqualTo(409);
                assertThat(http.delete("/api/vector-collections/" + collection).statusCode())
                        .isEqualTo(200);
                assertThat(sizeOf(node, collection)).as("purged").isNull();
                assertThat(http.delete("/api/vector-collections/" + collection).statusCode())
                        .isEqualTo(404);
            } finally {
                node.stop().await();
            }
        }
    }

    @Test
    @DisplayName(
            "Same dimension, side by side: the old model's collection serves every file until the re-index switches to the new one")
    void sameDimensionSideBySide() {
        String collection = TestStack.unique("models").replace('-', '_');
        String database = TestStack.unique("models");
        String alpha = TestStack.unique("alpha");
        String beta = TestStack.unique("beta");
        try (EmbeddingServer server = new EmbeddingServer(384)) {
            Map<String, String> first = env(database, collection, "side_by_side", server, "m-one");
            Map<String, String> second = env(database, collection, "side_by_side", server, "m-two");
            Map<String, List<String>> files = uploadThreeEach(TestStack.nodeConfig(first), alpha, beta);

            Node node = Node.start(TestStack.nodeConfig(second), false).await();
            try (Http http = new Http(node.vertx(), node.httpPort())) {
                VectorSpaces.Space retiring = node.stores().vectors().retiring();
                assertThat(retiring).as("a change of model under way").isNotNull();
                assertThat(retiring.collection()).isEqualTo(collection);
                assertThat(retiring.model()).isEqualTo("m-one@384");
                String fresh = collection + "__384d_m-two";
                assertThat(node.stores().vectors().spaces().target().collection())
                        .isEqualTo(fresh);
                assertThat(sizeOf(node, fresh))
                        .as("the new collection, made beside")
                        .isEqualTo(384);

                // Before any re-index every file is found in the old collection, the query embedded by the
                // old model (and by the new one for the new collection, still empty).
                JsonObject before = search(http, alpha, "whales and krill, before");
                assertThat(before.getInteger("excluded")).as("%s", before).isZero();
                assertThat(before.getString("partial")).as("%s", before).isNull();
                assertThat(fileIds(before)).containsExactlyInAnyOrderElementsOf(files.get(alpha));
                assertThat(server.modelsOf("whales and krill, before")).containsExactlyInAnyOrder("m-one", "m-two");

                // An upload now gets the new model's vectors, in the new collection only.
                String late = upload(http, alpha, Fixtures.prose(80) + " a late file about volcanoes");
                assertThat(node.stores()
                                .metadata()
                                .get(late)
                                .await()
                                .embedding()
                                .model())
                        .isEqualTo("m-two@384");
                assertThat(count(node, fresh, 384, alpha, late)).isPositive();
                assertThat(count(node, collection, 384, alpha, late)).isZero();
                // It is found at once, beside the files the old collection holds.
                JsonObject withLate = search(http, alpha, "a late file about volcanoes, found");
                assertThat(withLate.getString("partial")).as("%s", withLate).isNull();
                assertThat(withLate.getInteger("excluded")).as("%s", withLate).isZero();
                assertThat(fileIds(withLate))
                        .as("%s", withLate)
                        .containsExactlyInAnyOrderElementsOf(Stream.concat(files.get(alpha).stream(), Stream.of(late))
                                .toList());

                // The old model's service refuses the node (a key no longer valid): search answers from the
                // new collection, with the files re-embedded so far, and says so.
                server.refuseModel("m-one", 401);
                JsonObject partial = search(http, alpha, "a late file about volcanoes");
                assertThat(partial.getString("partial")).as("%s", partial).contains("m-one@384", "m-two@384");
                assertThat(fileIds(partial)).containsExactly(late);
                // The new model's service refuses it: the old collection alone, which lacks the late file.
                server.refuseModel("m-two", 401);
                JsonObject withoutLate = search(http, alpha, "a late file about volcanoes, refused");
                assertThat(withoutLate.getString("partial"))
                        .as("%s", withoutLate)
                        .contains("m-two@384", "left out");
                assertThat(fileIds(withoutLate)).containsExactlyInAnyOrderElementsOf(files.get(alpha));
                server.refuseModel(null, 0);
                assertThat(search(http, alpha, "whales and krill, again").getString("partial"))
                        .isNull();

                // A node of a third model refuses to start: one change at a time.
                Map<String, String> third = env(database, collection, "side_by_side", server, "m-three");
                Throwable refused = refusal(third);
                assertThat(refused).as("a third model during the change").isNotNull();
                assertThat(refused.getMessage()).contains("m-one@384", "m-two@384");

                JsonArray stale = analyze(http, alpha).getJsonArray("issues");
                assertThat(stale.stream().map(i -> ((JsonObject) i).getString("type")))
                        .as("issues before the re-index: %s", stale)
                        .hasSize(3)
                        .allMatch("STALE_VECTORS"::equals);

                JsonObject firstRun = reindex(http, alpha);
                assertThat(firstRun.getLong("switch_waits_for"))
                        .as("beta's files: %s", firstRun)
                        .isEqualTo(3);
                JsonObject during = search(http, alpha, "whales and krill, during");
                assertThat(fileIds(during)).containsAll(files.get(alpha));
                assertThat(server.modelsOf("whales and krill, during")).contains("m-one");

                // A node still of the old model (a rolling restart) finds the re-embedded files too.
                Node old = Node.start(TestStack.nodeConfig(first), false).await();
                try (Http oldHttp = new Http(old.vertx(), old.httpPort())) {
                    JsonObject onOld = search(oldHttp, alpha, "whales and krill, on the old node");
                    assertThat(onOld.getInteger("excluded")).as("%s", onOld).isZero();
                    assertThat(fileIds(onOld)).containsAll(files.get(alpha)).contains(late);

                    JsonObject secondRun = reindex(http, beta);
                    assertThat(secondRun.getString("switched_to"))
                            .as("%s", secondRun)
                            .isEqualTo(fresh);
                    assertThat(secondRun.getString("retired_collection")).isEqualTo(collection);
                    assertThat(node.stores().vectors().retiring()).isNull();

                    // After the switch the old node searches with the serving model and writes no vectors
                    // of its own model into the serving collection.
                    Await.until(
                            "the old node to see the switch",
                            30_000,
                            () -> !old.stores().vectors().refresh().await().migrating());
                    JsonObject afterOnOld = search(oldHttp, alpha, "whales and krill, after, on the old node");
                    assertThat(server.modelsOf("whales and krill, after, on the old node"))
                            .containsExactly("m-two");
                    assertThat(fileIds(afterOnOld)).containsAll(files.get(alpha));
                    HttpResponse<Buffer> refusedUpload = oldHttp.upload(
                            alpha, "doc.txt", "text/plain", Fixtures.utf8(Fixtures.prose(40) + " old model"), null);
                    assertThat(refusedUpload.statusCode())
                            .as(refusedUpload.bodyAsString())
                            .isEqualTo(503);
                    assertThat(refusedUpload.bodyAsString()).contains("m-one@384", "m-two@384");
                    // Its /health says so, for a load balancer to send it nothing; the new node's does not.
                    HttpResponse<Buffer> oldHealth = oldHttp.get("/health");
                    assertThat(oldHealth.statusCode())
                            .as(oldHealth.bodyAsString())
                            .isEqualTo(503);
                    JsonObject outdated = Http.json(oldHealth).getJsonObject("embedding");
                    assertThat(outdated.getString("status")).isEqualTo("OUTDATED");
                    assertThat(outdated.getString("error")).contains("m-one@384", "m-two@384", fresh);
                    HttpResponse<Buffer> newHealth = http.get("/health");
                    assertThat(newHealth.statusCode())
                            .as(newHealth.bodyAsString())
                            .isEqualTo(200);
                    assertThat(Http.json(newHealth).getJsonObject("embedding").getString("status"))
                            .isEqualTo("UP");
                } finally {
                    old.stop().await();
                }

                // After the switch: the new collection serves, queries go to the new model.
                JsonObject after = search(http, alpha, "whales and krill, after");
                assertThat(server.modelsOf("whales and krill, after")).containsExactly("m-two");
                assertThat(fileIds(after)).containsAll(files.get(alpha)).contains(late);
                for (String tenant : List.of(alpha, beta)) {
                    assertThat(analyze(http, tenant).getJsonArray("issues"))
                            .as("issues of %s after the switch", tenant)
                            .isEmpty();
                    for (String id : files.get(tenant)) {
                        assertThat(node.stores().vectors().pointsOf(tenant, id).await())
                                .isNotEmpty()
                                .allMatch(p -> p.model().equals("m-two@384"));
                    }
                }
                // Back to the old model only once its retired collection is purged.
                Throwable back = refusal(first);
                assertThat(back).as("the old model after the switch").isNotNull();
                assertThat(back.getMessage()).contains("purge", collection);
            } finally {
                node.stop().await();
            }
        }
    }

    @Test
    @DisplayName(
            "Side by side after an earlier change in place: the old points left in the serving collection neither stale a re-embedded file nor take a new version's points; the re-index switches")
    void sideBySideAfterAChangeInPlace() {
        String collection = TestStack.unique("inplace").replace('-', '_');
        String database = TestStack.unique("inplace");
        String alpha = TestStack.unique("alpha");
        try (EmbeddingServer server = new EmbeddingServer(384)) {
            Map<String, String> one = env(database, collection, "in_place", server, "m-one");
            Map<String, String> two = env(database, collection, "in_place", server, "m-two");
            Map<String, String> three = env(database, collection, "side_by_side", server, "m-three");
            List<String> files =
                    uploadThreeEach(TestStack.nodeConfig(one), alpha).get(alpha);
            // In place: m-two serves, the files keep m-one's points in the serving collection.
            Node node = Node.start(TestStack.nodeConfig(two), false).await();
            assertThat(node.stores().vectors().spaces().serving().model()).isEqualTo("m-two@384");
            node.stop().await();

            node = Node.start(TestStack.nodeConfig(three), false).await();
            try (Http http = new Http(node.vertx(), node.httpPort())) {
                String fresh = collection + "__384d_m-three";
                assertThat(node.stores().vectors().spaces().target().collection())
                        .isEqualTo(fresh);
                // A new version during the change: its points, the new model's, in the new collection.
                String replaced = files.get(0);
                HttpResponse<Buffer> put = http.replace(
                        "/api/files/" + replaced + "/content?user_id=" + alpha,
                        "doc.txt",
                        "text/plain",
                        Fixtures.utf8(Fixtures.prose(90) + " whales again, second version"),
                        null);
                assertThat(put.statusCode()).as(put.bodyAsString()).isEqualTo(200);
                assertThat(count(node, fresh, 384, alpha, replaced))
                        .as("the new version's points in the new collection")
                        .isEqualTo(node.stores()
                                .metadata()
                                .get(replaced)
                                .await()
                                .embedding()
                                .chunks());

                JsonObject run = reindex(http, alpha);
                assertThat(run.getString("switched_to")).as("%s", run).isEqualTo(fresh);
                assertThat(analyze(http, alpha).getJsonArray("issues")).isEmpty();
                assertThat(fileIds(search(http, alpha, "whales and krill"))).containsAll(files);
            } finally {
                node.stop().await();
            }
        }
    }

    @Test
    @DisplayName(
            "A change of model is abandoned by deleting the collection it fills, once the nodes are back on the serving model")
    void abandonedChange() {
        String collection = TestStack.unique("abandon").replace('-', '_');
        String database = TestStack.unique("abandon");
        String alpha = TestStack.unique("alpha");
        try (EmbeddingServer server = new EmbeddingServer(384)) {
            Map<String, String> one = env(database, collection, "side_by_side", server, "m-one");
            Map<String, String> two = env(database, collection, "side_by_side", server, "m-two");
            List<String> files =
                    uploadThreeEach(TestStack.nodeConfig(one), alpha).get(alpha);
            Node node = Node.start(TestStack.nodeConfig(two), false).await();
            String fresh = node.stores().vectors().spaces().target().collection();
            node.stop().await();
            // The model set back: the node leaves the change alone, until an admin deletes what it fills.
            node = Node.start(TestStack.nodeConfig(one), false).await();
            try (Http http = new Http(node.vertx(), node.httpPort())) {
                assertThat(node.stores().vectors().spaces().migrating()).isTrue();
                // The collection being filled dropped in Qdrant by hand: search answers from the serving one
                // and says what it left out, and the delete below still ends the change.
                withQdrant(node, q -> q.sibling(fresh, 1).drop());
                JsonObject withoutFresh = search(http, alpha, "whales and krill, the new collection gone");
                assertThat(withoutFresh.getString("partial"))
                        .as("%s", withoutFresh)
                        .contains(fresh);
                assertThat(fileIds(withoutFresh)).containsAll(files);
                HttpResponse<Buffer> purged = http.delete("/api/vector-collections/" + fresh);
                assertThat(purged.statusCode()).as(purged.bodyAsString()).isEqualTo(200);
                assertThat(node.stores().vectors().spaces().migrating()).isFalse();
                assertThat(sizeOf(node, fresh)).as("the abandoned collection").isNull();
                assertThat(http.delete("/api/vector-collections/" + collection).statusCode())
                        .as("the serving collection is not purged")
                        .isEqualTo(409);
                assertThat(analyze(http, alpha).getJsonArray("issues")).isEmpty();
                assertThat(fileIds(search(http, alpha, "whales and krill"))).containsAll(files);
            } finally {
                node.stop().await();
            }
        }
    }

    @Test
    @DisplayName("Qdrant lost while a collection is purged: the collection stays listed as retired, a purge again"
            + " deletes it, and a change to its model can begin again")
    void purgeDuringAQdrantOutage() throws Exception {
        String collection = TestStack.unique("outage").replace('-', '_');
        String database = TestStack.unique("outage");
        String alpha = TestStack.unique("alpha");
        String fresh = collection + "__384d_m-two";
        try (EmbeddingServer server = new EmbeddingServer(384);
                RestartableStores stores = RestartableStores.proxied()) {
            Map<String, String> one = env(database, collection, "side_by_side", server, "m-one");
            Map<String, String> two = env(database, collection, "side_by_side", server, "m-two");
            List<String> files = uploadThreeEach(stores.nodeConfig(one), alpha).get(alpha);
            Node.start(stores.nodeConfig(two), false).await().stop().await();

            // The change to m-two abandoned from a node set back to m-one, while Qdrant is away.
            Node node = Node.start(stores.nodeConfig(one), false).await();
            try (Http http = new Http(node.vertx(), node.httpPort())) {
                assertThat(node.stores().vectors().spaces().migrating()).isTrue();
                purgeWithoutQdrant(stores, http, fresh);
                JsonObject left = Http.json(http.get("/api/vector-collections"));
                assertThat(left.getValue("target")).as("%s", left).isNull();
                assertThat(collections(left.getJsonArray("retired")))
                        .as("%s", left)
                        .containsExactly(fresh);
                assertThat(sizeOf(node, fresh)).as("the collection not dropped").isEqualTo(384);
                purgeAgain(http, node, fresh);
            } finally {
                node.stop().await();
            }

            // The same change again, to its switch; the collection it retires purged during an outage too.
            node = Node.start(stores.nodeConfig(two), false).await();
            try (Http http = new Http(node.vertx(), node.httpPort())) {
                assertThat(node.stores().vectors().spaces().target().collection())
                        .isEqualTo(fresh);
                assertThat(reindex(http, alpha).getString("switched_to")).isEqualTo(fresh);
                purgeWithoutQdrant(stores, http, collection);
                JsonObject left = Http.json(http.get("/api/vector-collections"));
                assertThat(collections(left.getJsonArray("retired")))
                        .as("%s", left)
                        .containsExactly(collection);
                assertThat(sizeOf(node, collection))
                        .as("the collection not dropped")
                        .isEqualTo(384);
                purgeAgain(http, node, collection);
                assertThat(fileIds(search(http, alpha, "whales and krill"))).containsAll(files);
            } finally {
                node.stop().await();
            }
        }
    }

    /** A purge of {@code collection} while the proxy in front of Qdrant is cut: 503, the proxy restored after. */
    private static void purgeWithoutQdrant(RestartableStores stores, Http http, String collection) {
        stores.proxy("qdrant").cut();
        HttpResponse<Buffer> failed;
        try {
            failed = http.delete("/api/vector-collections/" + collection);
        } finally {
            stores.proxy("qdrant").restore();
        }
        assertThat(failed.statusCode()).as(failed.bodyAsString()).isEqualTo(503);
    }

    /**
     * A purge of {@code collection} once Qdrant is back (503 until the node's connection to it is made
     * again): 200, the collection gone and no longer listed.
     */
    private static void purgeAgain(Http http, Node node, String collection) {
        List<HttpResponse<Buffer>> purged = new ArrayList<>();
        Await.until("a purge again to be answered without Qdrant's outage", 30_000, () -> {
            purged.add(0, http.delete("/api/vector-collections/" + collection));
            return purged.get(0).statusCode() != 503;
        });
        assertThat(purged.get(0).statusCode()).as(purged.get(0).bodyAsString()).isEqualTo(200);
        assertThat(sizeOf(node, collection)).as("the purged collection").isNull();
        JsonObject after = Http.json(http.get("/api/vector-collections"));
        assertThat(collections(after.getJsonArray("retired"))).as("%s", after).doesNotContain(collection);
    }

    private static List<String> collections(JsonArray spaces) {
        return spaces.stream()
                .map(s -> ((JsonObject) s).getString("collection"))
                .toList();
    }

    @Test
    @DisplayName("The admin UI shows the collection being filled, then the retired one after the switch, and purges it")
    void collectionsInTheAdminUi() {
        String collection = TestStack.unique("ui_models").replace('-', '_');
        String database = TestStack.unique("ui-models");
        String alpha = TestStack.unique("alpha");
        try (EmbeddingServer server = new EmbeddingServer(384);
                Chromium chromium = new Chromium()) {
            Map<String, String> one = env(database, collection, "side_by_side", server, "m-one");
            Map<String, String> two = env(database, collection, "side_by_side", server, "m-two");
            uploadThreeEach(TestStack.nodeConfig(one), alpha);
            Node node = Node.start(TestStack.nodeConfig(two), false).await();
            String fresh = collection + "__384d_m-two";
            try (Http http = new Http(node.vertx(), node.httpPort());
                    BrowserContext context = chromium.browser().newContext()) {
                Page page = context.newPage();
                List<String> errors = new ArrayList<>();
                page.onConsoleMessage(m -> {
                    if ("error".equals(m.type())) {
                        errors.add(m.text());
                    }
                });
                page.onDialog(Dialog::accept);
                // Authentication is off on the test stack: the overview opens without a token.
                page.navigate("http://127.0.0.1:" + node.httpPort() + "/#/");
                page.waitForSelector("#collection-filling");
                assertThat(page.textContent("#collection-serving")).contains(collection, "m-one@384");
                assertThat(page.textContent("#collection-filling")).contains(fresh, "m-two@384", "re-index");
                assertThat(page.locator(".retired-collection").count()).isZero();

                assertThat(reindex(http, alpha).getString("switched_to")).isEqualTo(fresh);
                page.reload();
                String retired = ".retired-collection[data-collection='" + collection + "']";
                page.waitForSelector(retired);
                assertThat(page.textContent("#collection-serving")).contains(fresh, "m-two@384");
                assertThat(page.locator("#collection-filling").count()).isZero();
                page.click(retired + " button");
                page.waitForSelector(
                        retired, new Page.WaitForSelectorOptions().setState(WaitForSelectorState.DETACHED));
                assertThat(page.textContent("#message")).contains("Purged collection " + collection);
                assertThat(sizeOf(node, collection)).as("the purged collection").isNull();
                assertThat(errors).as("console errors").isEmpty();
            } finally {
                node.stop().await();
            }
        }
    }

    /** A node's settings: its own database and collection, how it changes models, {@code server} embedding as {@code model}. */
    private static Map<String, String> env(
            String database, String collection, String change, EmbeddingServer server, String model) {
        Map<String, String> env = new HashMap<>(server.nodeEnv(model));
        env.put("MONGO_DB", database);
        env.put("QDRANT_COLLECTION", collection);
        env.put("EMBEDDING_MODEL_CHANGE", change);
        return env;
    }

    /** Why a node of {@code env} refused to start, or null when it started (it is stopped again). */
    private static Throwable refusal(Map<String, String> env) {
        return Node.start(TestStack.nodeConfig(env), false)
                .compose(started -> started.stop().map(v -> (Throwable) null))
                .otherwise(e -> e)
                .await();
    }

    private static JsonObject search(Http http, String tenant, String query) {
        HttpResponse<Buffer> r = http.post(
                "/api/search",
                "application/json",
                new JsonObject()
                        .put("user_id", tenant)
                        .put("query", query)
                        .put("limit", 20)
                        .toBuffer());
        assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
        return r.bodyAsJsonObject();
    }

    private static List<String> fileIds(JsonObject searched) {
        return searched.getJsonArray("results").stream()
                .map(h -> ((JsonObject) h).getString("file_id"))
                .distinct()
                .toList();
    }

    /** Three files of each tenant about whales and krill, uploaded through a node of {@code config}, stopped after. */
    private static Map<String, List<String>> uploadThreeEach(TrisyncConfig config, String... tenants) {
        Map<String, List<String>> files = new HashMap<>();
        Node node = Node.start(config, false).await();
        try (Http http = new Http(node.vertx(), node.httpPort())) {
            for (String tenant : tenants) {
                for (int i = 0; i < 3; i++) {
                    files.computeIfAbsent(tenant, t -> new ArrayList<>())
                            .add(upload(http, tenant, Fixtures.prose(150) + " whales and krill " + i));
                }
            }
        } finally {
            node.stop().await();
        }
        return files;
    }

    /** Points of a tenant (of one file when not null) in one collection, read with the raw client. */
    private static long count(Node node, String collection, int dims, String tenant, String fileId) {
        return withQdrant(node, q -> q.sibling(collection, dims).count(tenant, fileId));
    }

    private static Integer sizeOf(Node node, String collection) {
        return withQdrant(node, q -> q.sibling(collection, 1).existingSize());
    }

    /** What {@code read} answers from a Qdrant client of the node's settings, closed after it. */
    private static <T> T withQdrant(Node node, Function<QdrantVectorStore, Future<T>> read) {
        QdrantVectorStore qdrant =
                new QdrantVectorStore(node.vertx(), node.config().qdrant());
        try {
            return read.apply(qdrant).await();
        } finally {
            qdrant.close().await();
        }
    }

    private static String upload(Http http, String tenant, String text) {
        HttpResponse<Buffer> r = http.upload(tenant, "doc.txt", "text/plain", Fixtures.utf8(text), null);
        assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(201);
        return r.bodyAsJsonObject().getString("id");
    }

    private static JsonArray hits(Http http, String tenant, String query) {
        HttpResponse<Buffer> r = http.post(
                "/api/search",
                "application/json",
                new JsonObject().put("user_id", tenant).put("query", query).toBuffer());
        assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
        return r.bodyAsJsonObject().getJsonArray("results");
    }

    private static JsonObject analyze(Http http, String tenant) {
        HttpResponse<Buffer> r = http.post(
                "/api/sync/analyze",
                "application/json",
                new JsonObject().put("user_id", tenant).put("mode", "full").toBuffer());
        assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
        return r.bodyAsJsonObject();
    }

    /** Runs a re-index of {@code tenant} to its end; its result. */
    private static JsonObject reindex(Http http, String tenant) {
        HttpResponse<Buffer> started = http.post(
                "/api/v1/sync",
                "application/json",
                new JsonObject().put("tenant_id", tenant).put("kind", "reindex").toBuffer());
        assertThat(started.statusCode()).as(started.bodyAsString()).isEqualTo(202);
        JsonObject[] latest = {null};
        Await.until("the re-index of " + tenant + " to end", 120_000, () -> {
            latest[0] = Http.json(http.get("/api/v1/sync/status?tenant_id=" + tenant))
                    .getJsonObject("latest_sync");
            return latest[0] != null && !"running".equals(latest[0].getString("status"));
        });
        assertThat(latest[0].getString("status"))
                .as("the re-index: %s", latest[0])
                .isEqualTo("completed");
        // The operation's count is the live one, not the count it started with (0).
        assertThat(latest[0].getLong("files_processed"))
                .as("the re-index: %s", latest[0])
                .isPositive()
                .isEqualTo(latest[0].getJsonObject("result").getLong("files"));
        return latest[0].getJsonObject("result");
    }
}
