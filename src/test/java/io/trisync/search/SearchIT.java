package io.trisync.search;

import static org.assertj.core.api.Assertions.assertThat;

import io.trisync.Node;
import io.trisync.auth.Tokens;
import io.trisync.store.Event;
import io.trisync.store.FileRecord;
import io.trisync.store.IssueRecord;
import io.trisync.store.MongoMetadataStore;
import io.trisync.store.StoreKeys;
import io.trisync.testsupport.Await;
import io.trisync.testsupport.Fixtures;
import io.trisync.testsupport.TestStack;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.MongoClient;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.multipart.MultipartForm;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * {@code POST /api/search} with the real local model: each topic's query finds its file first, and
 * a hit the stores disagree on (its record removed or marked deleted behind trisync's back, its
 * blob replaced) is never returned but counted and recorded as an issue; tenants never see each
 * other's files; bad input is a 400 naming the field.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(180)
class SearchIT {

    static final String SECRET = "search-test-secret-0123456789abcdef-000";
    static final Map<String, String> TOPICS = Map.of(
            "bread",
            "Sourdough bread recipe: mix flour, water and salt with an active starter, knead the dough,"
                    + " let it rise overnight and bake it in a hot oven until the crust is dark and crisp.",
            "tax",
            "Quarterly tax filing for small businesses: VAT returns, payroll withholding and the"
                    + " deadlines for corporate income tax declarations with the revenue authority.",
            "whales",
            "Humpback whales and dolphins migrate across the Pacific ocean; marine biologists track"
                    + " their songs, feeding grounds and calving lagoons from research vessels.");

    /** Long enough that a search right after another finds its blobs verified, short for the wait below. */
    static final int RECHECK_SECONDS = 5;

    private Node node;
    private WebClient web;
    private Tokens tokens;
    private final String tenant = TestStack.unique("search");
    private final String other = TestStack.unique("other");

    @BeforeAll
    void start() {
        node = Node.start(
                        TestStack.nodeConfig(Map.of(
                                "AUTH_ENABLED",
                                "true",
                                "AUTH_JWT_SECRET",
                                SECRET,
                                "SEARCH_BLOB_RECHECK_SECONDS",
                                String.valueOf(RECHECK_SECONDS))),
                        false)
                .await();
        web = WebClient.create(node.vertx());
        tokens = Tokens.of(node.vertx(), SECRET);
    }

    @AfterAll
    void stop() {
        web.close();
        node.stop().await();
    }

    @Test
    @DisplayName(
            "Three files on distinct topics: each topic's query returns its file first, with the matching chunk's text")
    void topicsFindTheirFiles() {
        String t = TestStack.unique("topics");
        String token = token(t);
        Map<String, String> ids = new HashMap<>();
        TOPICS.forEach((topic, text) -> ids.put(topic, upload(token, t, topic + ".txt", text)));
        Map<String, String> queries = Map.of(
                "bread", "how do I bake a loaf of bread",
                "tax", "when are company tax returns due",
                "whales", "ocean mammals and their migration");
        queries.forEach((topic, query) -> {
            JsonObject answer =
                    search(token, new JsonObject().put("query", query)).bodyAsJsonObject();
            JsonArray results = answer.getJsonArray("results");
            assertThat(results.getJsonObject(0).getString("file_id"))
                    .as("first hit for %s", query)
                    .isEqualTo(ids.get(topic));
            assertThat(results.getJsonObject(0).getString("text")).isEqualTo(TOPICS.get(topic));
            assertThat(results.getJsonObject(0).getString("file_name")).isEqualTo(topic + ".txt");
            assertThat(results.size()).as("one result per file").isEqualTo(3);
            assertThat(answer.getInteger("excluded")).isZero();
        });
        JsonObject narrowed = search(
                        token,
                        new JsonObject().put("query", "bread").put("file_ids", new JsonArray().add(ids.get("tax"))))
                .bodyAsJsonObject();
        assertThat(narrowed.getJsonArray("results")).hasSize(1);
        assertThat(narrowed.getJsonArray("results").getJsonObject(0).getString("file_id"))
                .isEqualTo(ids.get("tax"));
        assertThat(search(
                                token,
                                new JsonObject()
                                        .put("query", "bread")
                                        .put("content_types", new JsonArray().add("application/pdf")))
                        .bodyAsJsonObject()
                        .getJsonArray("results"))
                .isEmpty();
    }

    @Test
    @DisplayName("A blob verified by a search is not HEADed again for SEARCH_BLOB_RECHECK_SECONDS; replaced after"
            + " that check, it is excluded within the period as the blob's SIZE_MISMATCH")
    void blobsRecheckedWithinThePeriod() {
        String t = TestStack.unique("recheck");
        String token = token(t);
        String id = upload(token, t, "whales.txt", TOPICS.get("whales"));
        JsonObject query = new JsonObject().put("query", "whales in the ocean");
        JsonObject first = search(token, query).bodyAsJsonObject();
        assertThat(first.getJsonArray("results").getJsonObject(0).getString("file_id"))
                .isEqualTo(id);
        assertThat(first.getInteger("blobs_checked")).isEqualTo(1);
        JsonObject second = search(token, query).bodyAsJsonObject();
        assertThat(second.getJsonArray("results")).hasSize(1);
        assertThat(second.getInteger("blobs_checked"))
                .as("verified %d s ago at most", RECHECK_SECONDS)
                .isZero();
        FileRecord record = node.stores().metadata().get(id).await();
        node.stores()
                .blobs()
                .putBytes(
                        StoreKeys.blobKey(t, record.partition(), id),
                        Buffer.buffer(Fixtures.utf8("replaced by hand")),
                        "text/plain",
                        Map.of())
                .await();
        long replaced = System.nanoTime();
        Await.until("the replaced blob's file to be left out", (RECHECK_SECONDS + 5) * 1000L, () -> search(token, query)
                .bodyAsJsonObject()
                .getJsonArray("results")
                .isEmpty());
        assertThat((System.nanoTime() - replaced) / 1_000_000)
                .as("ms until a search left the replaced file out")
                .isLessThan((RECHECK_SECONDS + 2) * 1000L);
        assertThat(node.stores().issues().openFor(t, 10).await())
                .as("the blob's size differs from the record's: the blob's issue, not the vectors'")
                .extracting(IssueRecord::type)
                .containsExactly("SIZE_MISMATCH");
    }

    @Test
    @DisplayName("A blob whose bytes were overwritten in place, same size and sha256 metadata kept, is excluded and"
            + " recorded as CHECKSUM_MISMATCH (the blob's issue), never STALE_VECTORS: the points are the record's")
    void corruptedBytesAreTheBlobsIssue() {
        String t = TestStack.unique("corrupt");
        String token = token(t);
        String id = upload(token, t, "whales.txt", TOPICS.get("whales"));
        FileRecord record = node.stores().metadata().get(id).await();
        byte[] bytes = Fixtures.utf8(TOPICS.get("whales"));
        bytes[0] = (byte) (bytes[0] ^ 0x20);
        node.stores()
                .blobs()
                .putBytes(
                        StoreKeys.blobKey(t, record.partition(), id),
                        Buffer.buffer(bytes),
                        "text/plain",
                        Map.of("sha256", record.sha256()))
                .await();
        JsonObject answer = search(token, new JsonObject().put("query", "whales in the ocean"))
                .bodyAsJsonObject();
        assertThat(answer.getJsonArray("results")).as(answer.encode()).isEmpty();
        assertThat(answer.getInteger("excluded")).isEqualTo(1);
        List<IssueRecord> open = node.stores().issues().openFor(t, 10).await();
        assertThat(open).extracting(IssueRecord::type).containsExactly("CHECKSUM_MISMATCH");
        assertThat(open.get(0).details().getString("found_by")).isEqualTo("search");
        assertThat(open.get(0).details().getString("recorded")).isEqualTo(record.sha256());
    }

    @Test
    @DisplayName(
            "A file whose record was removed, marked deleted or whose blob was replaced behind trisync's back is excluded, counted and recorded as an issue")
    void disagreeingHitsExcluded() {
        String token = token(tenant);
        String removed = upload(token, tenant, "removed.txt", TOPICS.get("bread"));
        String deleted = upload(token, tenant, "deleted.txt", TOPICS.get("tax"));
        String replaced = upload(token, tenant, "replaced.txt", TOPICS.get("whales"));
        String kept = upload(token, tenant, "kept.txt", "Bread, taxes and whales: a little of everything in one note.");
        MongoClient mongo = MongoClient.create(
                node.vertx(), MongoMetadataStore.clientConfig(node.config().mongo()));
        try {
            mongo.removeDocument("files", new JsonObject().put("_id", removed)).await();
            mongo.updateCollection(
                            "files",
                            new JsonObject().put("_id", deleted),
                            new JsonObject()
                                    .put("$set", new JsonObject().put("status", FileRecord.Status.DELETED.wire())))
                    .await();
        } finally {
            mongo.close().await();
        }
        FileRecord whales = node.stores().metadata().get(replaced).await();
        node.stores()
                .blobs()
                .putBytes(
                        StoreKeys.blobKey(tenant, whales.partition(), replaced),
                        Buffer.buffer(Fixtures.utf8("replaced by hand")),
                        "text/plain",
                        Map.of())
                .await();

        JsonObject answer = search(token, new JsonObject().put("query", "bread taxes whales ocean"))
                .bodyAsJsonObject();
        List<String> returned = answer.getJsonArray("results").stream()
                .map(r -> ((JsonObject) r).getString("file_id"))
                .toList();
        assertThat(returned).as("results: %s", answer.encode()).containsExactly(kept);
        assertThat(answer.getInteger("excluded")).isEqualTo(3);
        Map<String, String> types = new HashMap<>();
        for (IssueRecord issue : node.stores().issues().openFor(tenant, 100).await()) {
            types.put(issue.fileId(), issue.type());
        }
        assertThat(types)
                .containsEntry(removed, "ORPHAN_VECTORS")
                .containsEntry(deleted, "DELETE_INCOMPLETE")
                .containsEntry(replaced, "SIZE_MISMATCH");
        long detected = node.stores().events().since(tenant, 0, 1000).await().stream()
                .filter(e -> "sync.issue_detected".equals(e.type()))
                .count();
        search(token, new JsonObject().put("query", "bread taxes whales ocean"));
        long again = node.stores().events().since(tenant, 0, 1000).await().stream()
                .filter(e -> "sync.issue_detected".equals(e.type()))
                .count();
        assertThat(again)
                .as("issue events after a second search (each issue once)")
                .isEqualTo(detected)
                .isEqualTo(3);
        List<JsonObject> excludedEvents = node.stores().events().since(tenant, 0, 1000).await().stream()
                .filter(e -> "search.excluded".equals(e.type()))
                .map(Event::toJson)
                .toList();
        assertThat(excludedEvents)
                .as("one search.excluded per search that left hits out")
                .hasSize(2);
        assertThat(excludedEvents.get(0).getJsonObject("data").getInteger("excluded"))
                .isEqualTo(3);
        assertThat(excludedEvents
                        .get(0)
                        .getJsonObject("data")
                        .getJsonObject("byType")
                        .getInteger("SIZE_MISMATCH"))
                .isEqualTo(1);
    }

    @Test
    @DisplayName(
            "A tenant's search never returns another tenant's file, even when it matches better and the body names that tenant")
    void tenantsApart() {
        String mine = TestStack.unique("mine");
        String theirs = TestStack.unique("theirs");
        upload(token(mine), mine, "mine.txt", "Notes about gardening tools and compost.");
        String theirFile = upload(token(theirs), theirs, "bread.txt", TOPICS.get("bread"));
        JsonObject answer = search(token(mine), new JsonObject().put("query", "sourdough bread recipe"))
                .bodyAsJsonObject();
        assertThat(answer.getJsonArray("results").encode()).doesNotContain(theirFile);
        HttpResponse<Buffer> named = search(
                token(mine), new JsonObject().put("query", "sourdough bread").put("user_id", theirs));
        assertThat(named.bodyAsString()).doesNotContain(theirFile);
        assertThat(named.statusCode()).isIn(200, 403);
        String admin = tokens.issue(null, true, Duration.ofMinutes(5));
        JsonObject adminAnswer = search(
                        admin, new JsonObject().put("query", "sourdough bread").put("user_id", theirs))
                .bodyAsJsonObject();
        assertThat(adminAnswer.getJsonArray("results").getJsonObject(0).getString("file_id"))
                .isEqualTo(theirFile);
    }

    @Test
    @DisplayName("Bad input is a 400 naming the field")
    void badInput() {
        String token = token(other);
        Map<JsonObject, String> cases = new LinkedHashMap<>();
        cases.put(new JsonObject(), "query");
        cases.put(new JsonObject().put("query", "   "), "query");
        cases.put(new JsonObject().put("query", 7), "query");
        cases.put(new JsonObject().put("query", "x".repeat(2001)), "query");
        cases.put(new JsonObject().put("query", "q").put("limit", 0), "limit");
        cases.put(new JsonObject().put("query", "q").put("limit", 101), "limit");
        cases.put(new JsonObject().put("query", "q").put("limit", "ten"), "limit");
        cases.put(new JsonObject().put("query", "q").put("file_ids", "abc"), "file_ids");
        cases.put(new JsonObject().put("query", "q").put("file_ids", new JsonArray().add("../etc")), "file_ids");
        cases.put(new JsonObject().put("query", "q").put("file_ids", new JsonArray().add(5)), "file_ids");
        cases.put(
                new JsonObject().put("query", "q").put("content_types", new JsonArray().add("not a type")),
                "content_types");
        cases.put(new JsonObject().put("query", "q").put("content_types", new JsonArray()), "content_types");
        cases.forEach((body, field) -> {
            HttpResponse<Buffer> r = search(token, body);
            assertThat(r.statusCode())
                    .as("%s → %s", body.encode(), r.bodyAsString())
                    .isEqualTo(400);
            assertThat(r.bodyAsJsonObject().getString("message"))
                    .as(body.encode())
                    .contains(field);
        });
    }

    private String token(String t) {
        return tokens.issue(t, false, Duration.ofMinutes(10));
    }

    private String upload(String token, String t, String name, String text) {
        MultipartForm form = MultipartForm.create()
                .attribute("user_id", t)
                .binaryFileUpload("file", name, Buffer.buffer(Fixtures.utf8(text)), "text/plain");
        HttpResponse<Buffer> r = web.post(node.httpPort(), "127.0.0.1", "/api/files")
                .putHeader("Authorization", "Bearer " + token)
                .sendMultipartForm(form)
                .await();
        assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(201);
        return r.bodyAsJsonObject().getString("id");
    }

    private HttpResponse<Buffer> search(String token, JsonObject body) {
        return web.post(node.httpPort(), "127.0.0.1", "/api/search")
                .putHeader("Authorization", "Bearer " + token)
                .sendJsonObject(body)
                .await();
    }
}
