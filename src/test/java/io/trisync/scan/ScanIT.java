package io.trisync.scan;

import static io.trisync.testsupport.Fixtures.utf8;
import static org.assertj.core.api.Assertions.assertThat;

import io.qdrant.client.PointIdFactory;
import io.qdrant.client.QdrantClient;
import io.qdrant.client.QdrantGrpcClient;
import io.qdrant.client.ValueFactory;
import io.qdrant.client.VectorsFactory;
import io.qdrant.client.grpc.Points.PointStruct;
import io.qdrant.client.grpc.Points.UpsertPoints;
import io.trisync.Node;
import io.trisync.metrics.Metrics;
import io.trisync.store.ChunkPoint;
import io.trisync.store.FileRecord;
import io.trisync.store.MongoMetadataStore;
import io.trisync.store.StoreKeys;
import io.trisync.store.Stores;
import io.trisync.store.SyncOperation;
import io.trisync.testsupport.Await;
import io.trisync.testsupport.Fixtures;
import io.trisync.testsupport.Http;
import io.trisync.testsupport.RestartableStores;
import io.trisync.testsupport.TestStack;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.MongoClient;
import io.vertx.ext.web.client.HttpResponse;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** End to end: ingest, damage the stores behind trisync's back through the raw clients, analyze. */
@Timeout(300)
class ScanIT {

    private static JsonObject analyze(Http http, String tenant, String mode) {
        var r = http.post(
                "/api/sync/analyze",
                "application/json",
                Buffer.buffer(new JsonObject()
                        .put("user_id", tenant)
                        .put("mode", mode)
                        .encode()));
        assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
        return r.bodyAsJsonObject();
    }

    private static Set<String> issues(JsonObject report) {
        Set<String> out = new HashSet<>();
        report.getJsonArray("issues").forEach(i -> {
            JsonObject issue = (JsonObject) i;
            out.add(issue.getString("type") + ":" + issue.getString("file_id"));
            assertThat(issue.getString("description")).isNotBlank();
            assertThat(issue.getString("suggested_action")).isNotBlank();
        });
        return out;
    }

    /** {@code POST /api/sync/fix} for {@code tenant}, a dry run or applied. */
    private static HttpResponse<Buffer> fix(Http http, String tenant, boolean dryRun) {
        return http.post(
                "/api/sync/fix",
                "application/json",
                Buffer.buffer(new JsonObject()
                        .put("user_id", tenant)
                        .put("dry_run", dryRun)
                        .encode()));
    }

    /** Three text files uploaded for {@code tenant}, their texts starting with {@code title} and a number; their ids. */
    private static List<String> uploadThree(Http http, String tenant, String title) {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            var r = http.upload(
                    tenant, "f" + i + ".txt", "text/plain", utf8(title + " " + i + ". " + Fixtures.prose(60)), null);
            assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(201);
            ids.add(r.bodyAsJsonObject().getString("id"));
        }
        return ids;
    }

    /** The ids of the files a search of {@code tenant} for {@code query} returns (it must answer 200). */
    private static List<String> searched(Http http, String tenant, String query) {
        var search = http.post(
                "/api/search",
                "application/json",
                Buffer.buffer(new JsonObject()
                        .put("user_id", tenant)
                        .put("query", query)
                        .put("limit", 10)
                        .encode()));
        assertThat(search.statusCode()).as(search.bodyAsString()).isEqualTo(200);
        return search.bodyAsJsonObject().getJsonArray("results").stream()
                .map(r -> ((JsonObject) r).getString("file_id"))
                .toList();
    }

    @Test
    @DisplayName(
            "Points trisync did not write (a numeric id, no file_id, a chunk that is text) in a tenant's partition,"
                    + " and an S3 folder marker under its prefix, are left alone: scans (the tenant's and all tenants'),"
                    + " searches and a dry-run fix answer as if they were not there")
    void foreignPointsAndFolderMarkersAreLeftAlone() throws Exception {
        int partitions = 4;
        Node node = Node.start(TestStack.nodeConfig(Map.of("SYNC_PARTITIONS", String.valueOf(partitions))), false)
                .await();
        QdrantClient qdrant = new QdrantClient(QdrantGrpcClient.newBuilder(
                        node.config().qdrant().host(), node.config().qdrant().port(), false)
                .build());
        try (Http http = new Http(node.vertx(), node.httpPort())) {
            String tenant = TestStack.unique("foreign");
            List<String> ids = uploadThree(http, tenant, "The lighthouse log, page");
            int partition = StoreKeys.partition(ids.get(0), partitions);
            // A vector of the collection's dimension: the one of a point the upload wrote.
            float[] vector = node.stores()
                    .vectors()
                    .get(List.of(StoreKeys.chunkPointId(ids.get(0), 0)))
                    .await()
                    .get(0)
                    .vector()
                    .clone();
            List<PointStruct> foreign = List.of(
                    // trisync's payload names, another program's id (not derived from file and chunk).
                    PointStruct.newBuilder()
                            .setId(PointIdFactory.id(UUID.randomUUID()))
                            .setVectors(VectorsFactory.vectors(vector))
                            .putPayload("tenant_id", ValueFactory.value(tenant))
                            .putPayload("file_id", ValueFactory.value("ext-import-1"))
                            .putPayload("chunk", ValueFactory.value(0))
                            .putPayload("partition", ValueFactory.value(partition))
                            .build(),
                    // A tenant that is no string: passed over when all-tenant scans look for tenants.
                    PointStruct.newBuilder()
                            .setId(PointIdFactory.id(7L))
                            .setVectors(VectorsFactory.vectors(vector))
                            .putPayload("tenant_id", ValueFactory.value(5))
                            .build(),
                    PointStruct.newBuilder()
                            .setId(PointIdFactory.id(424242L))
                            .setVectors(VectorsFactory.vectors(vector))
                            .putPayload("tenant_id", ValueFactory.value(tenant))
                            .putPayload("file_id", ValueFactory.value(ids.get(0)))
                            .putPayload("chunk", ValueFactory.value(7))
                            .putPayload("partition", ValueFactory.value(partition))
                            .build(),
                    PointStruct.newBuilder()
                            .setId(PointIdFactory.id(UUID.randomUUID()))
                            .setVectors(VectorsFactory.vectors(vector))
                            .putPayload("tenant_id", ValueFactory.value(tenant))
                            .putPayload("partition", ValueFactory.value(partition))
                            .putPayload("text", ValueFactory.value("lighthouse log"))
                            .build(),
                    PointStruct.newBuilder()
                            .setId(PointIdFactory.id(UUID.randomUUID()))
                            .setVectors(VectorsFactory.vectors(vector))
                            .putPayload("tenant_id", ValueFactory.value(tenant))
                            .putPayload("file_id", ValueFactory.value(ids.get(1)))
                            .putPayload("chunk", ValueFactory.value("x"))
                            .putPayload("partition", ValueFactory.value(StoreKeys.partition(ids.get(1), partitions)))
                            .build());
            qdrant.upsertAsync(UpsertPoints.newBuilder()
                            .setCollectionName(node.config().qdrant().collection())
                            .setWait(true)
                            .addAllPoints(foreign)
                            .build())
                    .get();
            node.stores()
                    .blobs()
                    .putBytes(
                            StoreKeys.blobPrefix(tenant, partition),
                            Buffer.buffer(),
                            "application/x-directory",
                            Map.of())
                    .await();
            // Objects of another program under the tenant's partition prefix: a key naming no file id, and a
            // nested key whose last part is one (a file of the tenant's, in another folder).
            List<String> foreignKeys = List.of(
                    StoreKeys.blobPrefix(tenant, partition) + "notes.txt",
                    StoreKeys.blobPrefix(tenant, partition) + "imports/" + ids.get(2));
            for (String key : foreignKeys) {
                node.stores()
                        .blobs()
                        .putBytes(key, Buffer.buffer("another program's"), "text/plain", Map.of())
                        .await();
            }

            for (String mode : List.of("full", "quick", "deep")) {
                JsonObject report = analyze(http, tenant, mode);
                assertThat(report.getJsonArray("issues"))
                        .as(mode + ": " + report.encode())
                        .isEmpty();
                // Reported apart, as what trisync did not write: the objects by key, the points counted (the one
                // whose tenant is no string lies in no tenant's partition).
                assertThat(report.getJsonArray("foreign_objects").getList())
                        .as(mode + ": " + report.encode())
                        .containsExactlyInAnyOrderElementsOf(foreignKeys);
                assertThat(report.getJsonObject("summary").getJsonObject("foreign"))
                        .as(mode)
                        .isEqualTo(new JsonObject()
                                .put("objects", foreignKeys.size())
                                .put("points", foreign.size() - 1));
            }
            // Each point left out is counted, for an operator to find the program that wrote it.
            String metrics = http.get("/metrics").bodyAsString();
            double counted = metrics.lines()
                    .filter(l -> l.startsWith("trisync_qdrant_foreign_points_total{collection=\""
                            + node.config().qdrant().collection() + "\""))
                    .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
                    .sum();
            assertThat(counted).as(metrics).isGreaterThanOrEqualTo(foreign.size());
            // A tenant left with one point of trisync's alone is still found by an all-tenant scan.
            String orphaned = TestStack.unique("orphaned");
            String gone = "01a25174-0000-7000-8000-00000000beef";
            node.stores()
                    .vectors()
                    .upsert(List.of(ChunkPoint.of(
                            orphaned, gone, 0, StoreKeys.partition(gone, partitions), "a".repeat(64), "m", vector)))
                    .await();
            var all = http.post(
                    "/api/sync/analyze",
                    "application/json",
                    Buffer.buffer(new JsonObject().put("mode", "full").encode()));
            assertThat(all.statusCode()).as(all.bodyAsString()).isEqualTo(200);
            List<JsonObject> found = all.bodyAsJsonObject().getJsonArray("issues").stream()
                    .map(JsonObject.class::cast)
                    .toList();
            // The report's issues name files, not tenants: none of this tenant's files or foreign points'.
            List<String> named = new ArrayList<>(ids);
            named.add("ext-import-1");
            assertThat(found.stream().filter(i -> named.contains(i.getString("file_id"))))
                    .as(all.bodyAsString())
                    .isEmpty();
            assertThat(found.stream()
                            .filter(i -> gone.equals(i.getString("file_id")))
                            .map(i -> i.getString("type")))
                    .as(all.bodyAsString())
                    .containsExactly("ORPHAN_VECTORS");
            assertThat(searched(http, tenant, "lighthouse log")).containsExactlyInAnyOrderElementsOf(ids);
            var fix = fix(http, tenant, true);
            assertThat(fix.statusCode()).as(fix.bodyAsString()).isEqualTo(200);
            assertThat(fix.bodyAsJsonObject().getJsonObject("counts").getInteger("actions"))
                    .isZero();
            var applied = fix(http, tenant, false);
            assertThat(applied.statusCode()).as(applied.bodyAsString()).isEqualTo(202);
            String repair = applied.bodyAsJsonObject().getString("operation_id");
            Await.until(
                    "repair " + repair + " to end",
                    30_000,
                    () -> node.stores().syncOperations().get(repair).await().status() != SyncOperation.Status.RUNNING);
            assertThat(node.stores().syncOperations().get(repair).await().status())
                    .isEqualTo(SyncOperation.Status.COMPLETED);
            for (String key : foreignKeys) {
                assertThat(node.stores().blobs().head(key).await().size())
                        .as(key + " where its program put it")
                        .isEqualTo("another program's".length());
            }
        } finally {
            qdrant.close();
            node.stop().await();
        }
    }

    @Test
    @DisplayName("A node of another partition count on the shared test stores works on a database, bucket and"
            + " collection of its own: its all-tenant scan takes none of the default database's files for orphans")
    void nodeOfAnotherCountScansOnlyItsOwnStores() {
        int byDefault = TestStack.config().sync().partitions();
        String tenant = TestStack.unique("default-count");
        List<String> ids = new ArrayList<>();
        Node first = Node.start(TestStack.nodeConfig(Map.of()), false).await();
        try (Http http = new Http(first.vertx(), first.httpPort())) {
            // Until a file lies in a partition a node of 8 lists (0 to 7 among the default count).
            while (ids.stream().allMatch(id -> StoreKeys.partition(id, byDefault) >= 8)) {
                var r = http.upload(tenant, "f" + ids.size() + ".txt", "text/plain", utf8(Fixtures.prose(40)), null);
                assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(201);
                ids.add(r.bodyAsJsonObject().getString("id"));
            }
        } finally {
            first.stop().await();
        }

        Node eight = Node.start(TestStack.nodeConfig(Map.of("SYNC_PARTITIONS", "8")), false)
                .await();
        try (Http http = new Http(eight.vertx(), eight.httpPort())) {
            assertThat(eight.config().s3().bucket()).isEqualTo(TestStack.bucketFor("8"));
            assertThat(eight.config().qdrant().collection()).isEqualTo(TestStack.collectionFor("8"));
            var all = http.post(
                    "/api/sync/analyze",
                    "application/json",
                    Buffer.buffer(new JsonObject().put("mode", "full").encode()));
            assertThat(all.statusCode()).as(all.bodyAsString()).isEqualTo(200);
            assertThat(all.bodyAsJsonObject().getJsonArray("issues").stream()
                            .map(JsonObject.class::cast)
                            .filter(i -> ids.contains(i.getString("file_id"))))
                    .as(all.bodyAsString())
                    .isEmpty();
        } finally {
            eight.stop().await();
        }
    }

    @Test
    @DisplayName("A record whose field was edited by hand to a value trisync never writes (a sha256 removed, a size"
            + " that is text, a partition its id is not in or none, a chunk count that is text, a date that is no"
            + " date) is reported once as UNREADABLE_RECORD naming the field, never as drift or orphans; its tenant's"
            + " scans, searches and listings go on without it; GET names the field; a repair leaves it to a person")
    void handEditedFieldsAreReportedNotFatal() {
        int partitions = 4;
        Node node = Node.start(TestStack.nodeConfig(Map.of("SYNC_PARTITIONS", String.valueOf(partitions))), false)
                .await();
        MongoClient raw = MongoClient.create(
                node.vertx(), MongoMetadataStore.clientConfig(node.config().mongo()));
        record Edit(String field, java.util.function.Function<String, JsonObject> update) {}
        List<Edit> edits = List.of(
                new Edit("sha256", id -> new JsonObject().put("$unset", new JsonObject().put("sha256", ""))),
                new Edit("size", id -> new JsonObject().put("$set", new JsonObject().put("size", "big"))),
                new Edit("partition", id -> new JsonObject()
                        .put(
                                "$set",
                                new JsonObject()
                                        .put("partition", (StoreKeys.partition(id, partitions) + 1) % partitions))),
                new Edit("partition", id -> new JsonObject().put("$unset", new JsonObject().put("partition", ""))),
                new Edit("embedding.chunks", id -> new JsonObject()
                        .put("$set", new JsonObject().put("embedding.chunks", "x"))),
                new Edit("createdAt", id -> new JsonObject()
                        .put("$set", new JsonObject().put("createdAt", "yesterday"))),
                new Edit("sync", id -> new JsonObject().put("$set", new JsonObject().put("sync", "x"))),
                new Edit("sync.checkedAt", id -> new JsonObject()
                        .put("$set", new JsonObject().put("sync.checkedAt", "yesterday"))),
                new Edit("tenantId", id -> new JsonObject().put("$unset", new JsonObject().put("tenantId", ""))));
        try (Http http = new Http(node.vertx(), node.httpPort())) {
            for (Edit edit : edits) {
                String tenant = TestStack.unique("edited");
                List<String> ids = uploadThree(http, tenant, "The harbour manifest, sheet");
                String bad = ids.get(0);
                JsonObject update = edit.update().apply(bad);
                String what = edit.field() + " " + update.encode();
                raw.updateCollection("files", new JsonObject().put("_id", bad), update)
                        .await();

                for (String mode : List.of("full", "quick")) {
                    JsonObject report = analyze(http, tenant, mode);
                    assertThat(report.getJsonArray("issues"))
                            .as(what + ", " + mode + ": " + report.encode())
                            .hasSize(1);
                    JsonObject issue = report.getJsonArray("issues").getJsonObject(0);
                    assertThat(issue.getString("type")).as(what).isEqualTo("UNREADABLE_RECORD");
                    assertThat(issue.getString("file_id")).as(what).isEqualTo(bad);
                    assertThat(issue.getJsonObject("details").getString("field"))
                            .as(what)
                            .isEqualTo(edit.field());
                }
                assertThat(searched(http, tenant, "harbour manifest"))
                        .as(what)
                        .containsExactlyInAnyOrder(ids.get(1), ids.get(2));
                var list = http.get("/api/files?user_id=" + tenant);
                assertThat(list.statusCode())
                        .as(what + ": " + list.bodyAsString())
                        .isEqualTo(200);
                assertThat(list.bodyAsJsonObject().getJsonArray("files").stream()
                                .map(f -> ((JsonObject) f).getString("id"))
                                .toList())
                        .as(what)
                        .containsExactlyInAnyOrder(ids.get(1), ids.get(2));
                // A record whose tenant cannot be read is no tenant's to be told about: it is not there.
                boolean owned = !edit.field().equals("tenantId");
                var get = http.get("/api/files/" + bad + "?user_id=" + tenant);
                assertThat(get.statusCode())
                        .as(what + ": " + get.bodyAsString())
                        .isEqualTo(owned ? 409 : 404);
                if (owned) {
                    assertThat(get.bodyAsJsonObject().getString("message")).contains(bad, "field " + edit.field());
                }
                // Neither written over nor acted on: a person corrects it first.
                JsonObject stored = raw.findOne("files", new JsonObject().put("_id", bad), null)
                        .await();
                String path = "/api/files/" + bad;
                String query = "?user_id=" + tenant;
                for (var write : List.of(
                        http.delete(path + query),
                        http.patch(path + query, new JsonObject().put("name", "renamed.txt")),
                        http.replace(
                                path + "/content" + query,
                                "f0.txt",
                                "text/plain",
                                utf8("A new version of the manifest."),
                                null))) {
                    assertThat(write.statusCode())
                            .as(what + ": " + write.bodyAsString())
                            .isEqualTo(owned ? 409 : 404);
                    if (owned) {
                        assertThat(write.bodyAsJsonObject().getString("message"))
                                .contains("field " + edit.field());
                    }
                }
                assertThat(raw.findOne("files", new JsonObject().put("_id", bad), null)
                                .await())
                        .as(what + ": the record as the person left it")
                        .isEqualTo(stored);
                var fix = fix(http, tenant, true);
                assertThat(fix.statusCode())
                        .as(what + ": " + fix.bodyAsString())
                        .isEqualTo(200);
                assertThat(fix.bodyAsJsonObject().getJsonObject("counts").getJsonObject("by_action"))
                        .as(what)
                        .isEqualTo(new JsonObject().put("FLAG_FOR_PERSON", 1));
                var applied = fix(http, tenant, false);
                assertThat(applied.statusCode())
                        .as(what + ": " + applied.bodyAsString())
                        .isEqualTo(202);
                String opId = applied.bodyAsJsonObject().getString("operation_id");
                JsonObject op = Await.value(
                        "the repair to end",
                        60_000,
                        () -> http.get("/api/sync/fix/" + opId)
                                .bodyAsJsonObject()
                                .getJsonObject("operation"),
                        o -> !"running".equals(o.getString("status")));
                assertThat(op.getString("status")).as(what + ": " + op.encode()).isEqualTo("completed");
                assertThat(op.getJsonObject("result").getInteger("left_to_person"))
                        .as(what + ": " + op.encode())
                        .isEqualTo(1);
                // Its blob and points are the file's, never taken for orphans.
                assertThat(node.stores().vectors().pointsOf(tenant, bad).await())
                        .as(what)
                        .isNotEmpty();
                assertThat(analyze(http, tenant, "full").getJsonArray("issues"))
                        .as(what + ": scanned again after the fix")
                        .hasSize(1);
            }
        } finally {
            raw.close();
            node.stop().await();
        }
    }

    @Test
    @DisplayName("A record whose status was set by hand to a value trisync never writes is reported as"
            + " UNREADABLE_RECORD naming the file and the field; the rest is scanned, searched and served; GET of it"
            + " is a 409 naming it; a repair leaves it to a person")
    void unreadableRecordIsReportedNotFatal() {
        Node node = Node.start(TestStack.nodeConfig(Map.of("SYNC_PARTITIONS", "4")), false)
                .await();
        MongoClient raw = MongoClient.create(
                node.vertx(), MongoMetadataStore.clientConfig(node.config().mongo()));
        try (Http http = new Http(node.vertx(), node.httpPort())) {
            String tenant = TestStack.unique("unreadable");
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                var r = http.upload(
                        tenant,
                        "w" + i + ".txt",
                        "text/plain",
                        utf8("The warehouse ledger, volume " + i + ". " + Fixtures.prose(60)),
                        null);
                assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(201);
                ids.add(r.bodyAsJsonObject().getString("id"));
            }
            String bad = ids.get(0);
            raw.updateCollection(
                            "files",
                            new JsonObject().put("_id", bad),
                            new JsonObject().put("$set", new JsonObject().put("status", "archived")))
                    .await();

            for (String mode : List.of("full", "deep", "quick")) {
                JsonObject report = analyze(http, tenant, mode);
                JsonObject issue = report.getJsonArray("issues").stream()
                        .map(JsonObject.class::cast)
                        .filter(i -> bad.equals(i.getString("file_id")))
                        .findFirst()
                        .orElseThrow(() -> new AssertionError(mode + ": " + report.encode()));
                assertThat(issue.getString("type")).as(mode).isEqualTo("UNREADABLE_RECORD");
                assertThat(issue.getJsonObject("details").getString("field")).isEqualTo("status");
                assertThat(report.getJsonArray("issues"))
                        .as(mode + ": only that record")
                        .hasSize(1);
            }
            // The other files still pass as synced; no orphan is made of the record's blob or points.
            JsonObject full = analyze(http, tenant, "full");
            assertThat(full.getJsonObject("summary").getLong("synced")).isEqualTo(2);
            assertThat(issues(full)).containsExactly("UNREADABLE_RECORD:" + bad);

            var search = http.post(
                    "/api/search",
                    "application/json",
                    Buffer.buffer(new JsonObject()
                            .put("user_id", tenant)
                            .put("query", "warehouse ledger")
                            .put("limit", 10)
                            .encode()));
            assertThat(search.statusCode()).as(search.bodyAsString()).isEqualTo(200);
            List<String> found = search.bodyAsJsonObject().getJsonArray("results").stream()
                    .map(r -> ((JsonObject) r).getString("file_id"))
                    .toList();
            assertThat(found).containsExactlyInAnyOrder(ids.get(1), ids.get(2));

            var get = http.get("/api/files/" + bad + "?user_id=" + tenant);
            assertThat(get.statusCode()).as(get.bodyAsString()).isEqualTo(409);
            assertThat(get.bodyAsJsonObject().getString("message")).contains(bad, "status");
            assertThat(http.get("/api/files/" + ids.get(1) + "?user_id=" + tenant)
                            .statusCode())
                    .isEqualTo(200);

            var fix = fix(http, tenant, false);
            assertThat(fix.statusCode()).as(fix.bodyAsString()).isEqualTo(202);
            String opId = fix.bodyAsJsonObject().getString("operation_id");
            JsonObject op = Await.value(
                    "the repair to end",
                    60_000,
                    () -> http.get("/api/sync/fix/" + opId).bodyAsJsonObject().getJsonObject("operation"),
                    o -> !"running".equals(o.getString("status")));
            assertThat(op.getString("status")).as(op.encode()).isEqualTo("completed");
            JsonObject result = op.getJsonObject("result");
            assertThat(result.getInteger("left_to_person")).as(result.encode()).isEqualTo(1);
            assertThat(result.getInteger("successful")).as(result.encode()).isZero();
            // What a person finds is what they left: the record, its blob and its points.
            assertThat(raw.findOne("files", new JsonObject().put("_id", bad), null)
                            .await()
                            .getString("status"))
                    .isEqualTo("archived");
            assertThat(node.stores().vectors().pointsOf(tenant, bad).await()).isNotEmpty();
        } finally {
            raw.close();
            node.stop().await();
        }
    }

    @Test
    @DisplayName("A clean tenant is all synced; each kind of damage is reported exactly, in full and deep scans")
    void reportsExactlyTheDamage() {
        Node node = Node.start(TestStack.nodeConfig(Map.of("SYNC_PARTITIONS", "8")), false)
                .await();
        try (Http http = new Http(node.vertx(), node.httpPort())) {
            Stores s = node.stores();
            String tenant = TestStack.unique("t");
            List<FileRecord> files = new ArrayList<>();
            for (int i = 0; i < 7; i++) {
                String id = http.upload(
                                tenant, "f" + i + ".txt", "text/plain", utf8(Fixtures.prose(400) + " " + i), null)
                        .bodyAsJsonObject()
                        .getString("id");
                files.add(s.metadata().get(id).await());
            }
            JsonObject clean = analyze(http, tenant, "full");
            assertThat(clean.getJsonObject("summary").getLong("total_files")).isEqualTo(7);
            assertThat(clean.getJsonObject("summary").getLong("synced")).isEqualTo(7);
            assertThat(clean.getJsonArray("issues")).isEmpty();

            FileRecord lostBlob = files.get(0);
            FileRecord overwritten = files.get(1);
            FileRecord lostPoints = files.get(2);
            FileRecord lostRecord = files.get(3);
            FileRecord wrongSize = files.get(4);
            s.blobs().delete(key(lostBlob)).await();
            var missing = http.get("/api/files/" + lostBlob.id() + "/content?user_id=" + tenant);
            assertThat(missing.statusCode()).isEqualTo(404);
            assertThat(missing.bodyAsJsonObject().getString("message")).contains("MISSING_BLOB");
            byte[] other = utf8(Fixtures.prose(400) + " X");
            byte[] sameLength = new byte[(int) overwritten.size()];
            System.arraycopy(other, 0, sameLength, 0, Math.min(other.length, sameLength.length));
            s.blobs()
                    .putBytes(
                            key(overwritten),
                            Buffer.buffer(sameLength),
                            "text/plain",
                            Map.of("sha256", Fixtures.sha256(sameLength)))
                    .await();
            s.vectors()
                    .delete(List.of(StoreKeys.chunkPointId(lostPoints.id(), 1)))
                    .await();
            s.metadata().remove(lostRecord.id()).await();
            s.metadata()
                    .upsert(new FileRecord(
                            wrongSize.id(),
                            tenant,
                            wrongSize.name(),
                            wrongSize.contentType(),
                            wrongSize.size() + 5,
                            wrongSize.sha256(),
                            wrongSize.status(),
                            wrongSize.version(),
                            wrongSize.partition(),
                            wrongSize.embedding(),
                            wrongSize.createdAt(),
                            wrongSize.updatedAt(),
                            null))
                    .await();
            String orphan = Fixtures.fileId("orphan-object");
            int orphanPartition = StoreKeys.partition(orphan, 8);
            s.blobs()
                    .putBytes(
                            StoreKeys.blobKey(tenant, orphanPartition, orphan),
                            Buffer.buffer("x"),
                            "text/plain",
                            Map.of())
                    .await();
            float[] v = new float[384];
            v[0] = 1;
            s.vectors()
                    .upsert(List.of(ChunkPoint.of(
                            tenant,
                            "ghost-file",
                            0,
                            StoreKeys.partition("ghost-file", 8),
                            "sha",
                            "all-minilm-l6-v2-q",
                            v)))
                    .await();

            Set<String> expected = Set.of(
                    "MISSING_BLOB:" + lostBlob.id(),
                    "CHECKSUM_MISMATCH:" + overwritten.id(),
                    "MISSING_CHUNKS:" + lostPoints.id(),
                    "ORPHAN_BLOB:" + lostRecord.id(),
                    "ORPHAN_VECTORS:" + lostRecord.id(),
                    "SIZE_MISMATCH:" + wrongSize.id(),
                    "ORPHAN_BLOB:" + orphan,
                    "ORPHAN_VECTORS:ghost-file");
            long headsBefore = s3Requests(node, "HeadObject");
            JsonObject full = analyze(http, tenant, "full");
            long firstHeads = s3Requests(node, "HeadObject") - headsBefore;
            assertThat(issues(full)).isEqualTo(expected);
            JsonObject summary = full.getJsonObject("summary");
            // Active files only, as status counts them: the orphans are issues, not files.
            assertThat(summary.getLong("total_files")).isEqualTo(6);
            assertThat(summary.getLong("synced")).isEqualTo(2);
            assertThat(summary.getLong("missing")).isEqualTo(2);
            assertThat(summary.getLong("out_of_sync")).isEqualTo(2);
            assertThat(summary.getJsonObject("by_store").getLong("mongodb")).isEqualTo(6);
            assertThat(summary.getJsonObject("issues_by_type").getLong("ORPHAN_BLOB"))
                    .isEqualTo(2);

            assertThat(count(s, tenant, "sync.issue_detected")).isEqualTo(8);
            long heads = s3Requests(node, "HeadObject");
            assertThat(analyze(http, tenant, "full").getJsonArray("issues")).hasSize(8);
            // Issues listed again unchanged are not looked at again: the first scan made a HEAD for each
            // candidate and orphan object, the second only for the object whose bytes are hashed again.
            assertThat(firstHeads).isGreaterThanOrEqualTo(8);
            assertThat(s3Requests(node, "HeadObject") - heads)
                    .as("HEADs of the second scan (the checksum issue's object)")
                    .isEqualTo(1);
            assertThat(count(s, tenant, "sync.issue_detected"))
                    .as("no new event for a known issue")
                    .isEqualTo(8);
            assertThat(s.metadata().get(lostBlob.id()).await().sync().verdict()).isEqualTo("missing");
            assertThat(s.metadata().get(wrongSize.id()).await().sync().verdict())
                    .isEqualTo("out_of_sync");
            assertThat(s.metadata().get(files.get(6).id()).await().sync().verdict())
                    .isEqualTo("synced");
            assertThat(s.metadata().get(lostBlob.id()).await().sync().issues()).containsExactly("MISSING_BLOB");

            var statusResponse = http.get("/api/sync/status/" + tenant + "?limit=100");
            assertThat(statusResponse.statusCode())
                    .as(statusResponse.bodyAsString())
                    .isEqualTo(200);
            JsonObject status = statusResponse.bodyAsJsonObject();
            assertThat(status.getJsonObject("summary").getLong("synced")).isEqualTo(2);
            assertThat(status.getJsonObject("summary").getLong("missing")).isEqualTo(2);
            assertThat(status.getJsonObject("summary").getLong("out_of_sync")).isEqualTo(2);
            assertThat(status.getJsonObject("summary").getLong("open_issues")).isEqualTo(8);
            assertThat(status.getString("last_scan_at")).isNotNull();
            JsonObject lostBlobView = status.getJsonArray("files").stream()
                    .map(f -> (JsonObject) f)
                    .filter(f -> f.getString("id").equals(lostBlob.id()))
                    .findFirst()
                    .orElseThrow();
            assertThat(lostBlobView.getString("status")).isEqualTo("missing");
            assertThat(lostBlobView.getJsonObject("stores").getString("s3")).isEqualTo("missing");
            assertThat(lostBlobView.getJsonObject("stores").getString("qdrant")).isEqualTo("present");
            JsonObject service = http.get("/api/sync/status").bodyAsJsonObject();
            assertThat(service.getBoolean("service_running")).isTrue();
            assertThat(service.getJsonArray("nodes")).hasSize(1);
            assertThat(service.getJsonObject("stores").getJsonObject("qdrant").getString("status"))
                    .isEqualTo("UP");
            assertThat(service.fieldNames()).contains("running_operations", "timestamp");

            // A deep scan re-reads the bytes: an overwrite that kept the old sha256 metadata is caught too.
            s.blobs()
                    .putBytes(
                            key(overwritten),
                            Buffer.buffer(sameLength),
                            "text/plain",
                            Map.of("sha256", overwritten.sha256()))
                    .await();
            // A full scan's listings no longer show it (the metadata names the recorded sha256), but a
            // file with a checksum issue open has its bytes hashed: the issue stays open, rather than
            // closed by the full scan and found again by the next deep one.
            assertThat(issues(analyze(http, tenant, "full"))).contains("CHECKSUM_MISMATCH:" + overwritten.id());
            assertThat(count(s, tenant, "sync.issue_resolved")).isZero();
            assertThat(issues(analyze(http, tenant, "deep"))).isEqualTo(expected);
            assertThat(count(s, tenant, "sync.issue_detected")).isEqualTo(8);

            JsonObject history =
                    http.get("/api/v1/sync/operations?tenant_id=" + tenant).bodyAsJsonObject();
            assertThat(history.getJsonArray("operations")).hasSize(5);
            assertThat(history.getJsonArray("operations").getJsonObject(0).getString("status"))
                    .isEqualTo("completed");
            assertThat(history.getJsonArray("operations")
                            .getJsonObject(0)
                            .getJsonObject("result")
                            .getLong("issues"))
                    .isEqualTo(8);
        } finally {
            node.stop().await();
        }
    }

    /** How many {@code operation} requests the node made to S3 so far. */
    private static long s3Requests(Node node, String operation) {
        var timer = Metrics.of(node.config())
                .registry()
                .find("trisync.store.request.duration")
                .tags("store", "s3", "operation", operation)
                .timer();
        return timer == null ? 0 : timer.count();
    }

    @Test
    @DisplayName("A rescan writes only the verdicts that changed; every file's checked_at still shows the latest scan")
    void rescanWritesOnlyChanges() throws Exception {
        Node node = Node.start(TestStack.nodeConfig(Map.of("SYNC_PARTITIONS", "4")), false)
                .await();
        try (Http http = new Http(node.vertx(), node.httpPort())) {
            Stores s = node.stores();
            String tenant = TestStack.unique("t");
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                ids.add(http.upload(tenant, "r" + i + ".txt", "text/plain", utf8(Fixtures.prose(60) + " " + i), null)
                        .bodyAsJsonObject()
                        .getString("id"));
            }
            analyze(http, tenant, "full");
            Map<String, String> firstOps = new HashMap<>();
            for (String id : ids) {
                firstOps.put(id, s.metadata().get(id).await().sync().opId());
            }
            String damaged = ids.get(0);
            s.vectors().deleteFile(tenant, damaged).await();
            Instant beforeSecond = Instant.now();
            JsonObject second = analyze(http, tenant, "full");
            assertThat(issues(second)).containsExactly("MISSING_VECTORS:" + damaged);

            FileRecord changed = s.metadata().get(damaged).await();
            assertThat(changed.sync().verdict()).isNotEqualTo("synced");
            assertThat(changed.sync().opId()).isNotEqualTo(firstOps.get(damaged));
            for (String id : ids.subList(1, ids.size())) {
                assertThat(s.metadata().get(id).await().sync().opId())
                        .as("the unchanged verdict of " + id + " is not rewritten")
                        .isEqualTo(firstOps.get(id));
            }
            JsonObject status =
                    http.get("/api/sync/status/" + tenant + "?limit=50").bodyAsJsonObject();
            assertThat(status.getJsonArray("files")).hasSize(ids.size());
            status.getJsonArray("files").forEach(f -> {
                JsonObject file = (JsonObject) f;
                assertThat(Instant.parse(file.getString("checked_at")))
                        .as("checked_at of " + file.getString("id"))
                        .isAfterOrEqualTo(beforeSecond.truncatedTo(ChronoUnit.MILLIS));
            });
        } finally {
            node.stop().await();
        }
    }

    @Test
    @DisplayName("POST /api/v1/sync starts a tracked scan (202), a second is 409; unknown mode, bad ids and a dry run"
            + " asked of a scan or of a repair by kind are 400")
    void trackedScanAndBadInput() throws Exception {
        Node node = Node.start(TestStack.nodeConfig(Map.of("SYNC_PARTITIONS", "64")), false)
                .await();
        try (Http http = new Http(node.vertx(), node.httpPort())) {
            String tenant = TestStack.unique("t");
            String body = new JsonObject()
                    .put("tenant_id", tenant)
                    .put("kind", "scan")
                    .encode();
            var started = http.post("/api/v1/sync", "application/json", Buffer.buffer(body));
            assertThat(started.statusCode()).as(started.bodyAsString()).isEqualTo(202);
            String opId = started.bodyAsJsonObject().getString("id");
            var second = http.post("/api/v1/sync", "application/json", Buffer.buffer(body));
            assertThat(List.of(202, 409)).contains(second.statusCode());
            Await.until(
                    "the sync operation to end",
                    10_000,
                    () -> node.stores().syncOperations().get(opId).await().status() != SyncOperation.Status.RUNNING);
            assertThat(node.stores().syncOperations().get(opId).await().status())
                    .isEqualTo(SyncOperation.Status.COMPLETED);
            var unknownTenant = analyze(http, TestStack.unique("nobody"), "full");
            assertThat(unknownTenant.getJsonObject("summary").getLong("total_files"))
                    .isZero();
            assertThat(http.post("/api/sync/analyze", "application/json", Buffer.buffer("{\"mode\":\"fast\"}"))
                            .statusCode())
                    .isEqualTo(400);
            assertThat(http.post("/api/sync/analyze", "application/json", Buffer.buffer("{\"user_id\":\"a/b\"}"))
                            .statusCode())
                    .isEqualTo(400);
            // A scan repairs nothing: a dry run asked of it is refused naming the field, never ignored,
            // and a dry run asked of a repair started by kind is refused rather than applied.
            String untouched = TestStack.unique("dry");
            for (var bad : List.of(
                    Map.entry("/api/sync/analyze", new JsonObject().put("user_id", untouched)),
                    Map.entry(
                            "/api/v1/sync",
                            new JsonObject().put("tenant_id", untouched).put("kind", "scan")),
                    Map.entry(
                            "/api/v1/sync",
                            new JsonObject().put("tenant_id", untouched).put("kind", "repair")))) {
                var refused = http.post(
                        bad.getKey(),
                        "application/json",
                        bad.getValue().copy().put("dry_run", true).toBuffer());
                assertThat(refused.statusCode())
                        .as(bad + ": " + refused.bodyAsString())
                        .isEqualTo(400);
                assertThat(refused.bodyAsJsonObject().getString("message")).startsWith("dry_run: ");
            }
            assertThat(Http.json(http.get("/api/v1/sync/status?tenant_id=" + untouched))
                            .getValue("latest_sync"))
                    .as("no operation was started for the refused requests")
                    .isNull();
        } finally {
            node.stop().await();
        }
    }

    @Test
    @DisplayName(
            "A global consistency check scans every tenant (202 with the operations); a periodic check skips fresh ones")
    void consistencyCheck() throws Exception {
        try (RestartableStores stores = new RestartableStores()) {
            Node node = Node.start(stores.nodeConfig(Map.of("SYNC_PARTITIONS", "8")), false)
                    .await();
            try (Http http = new Http(node.vertx(), node.httpPort())) {
                for (String tenant : List.of("alpha", "beta")) {
                    http.upload(tenant, "a.txt", "text/plain", utf8(Fixtures.prose(60)), null);
                }
                var r = http.post("/api/sync/consistency-check", "application/json", Buffer.buffer(""));
                assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(202);
                List<Object> ids =
                        r.bodyAsJsonObject().getJsonArray("operation_ids").getList();
                assertThat(ids).hasSize(2);
                for (Object id : ids) {
                    Await.until(
                            "consistency-check operation " + id + " to end",
                            10_000,
                            () -> node.stores()
                                            .syncOperations()
                                            .get((String) id)
                                            .await()
                                            .status()
                                    != SyncOperation.Status.RUNNING);
                    assertThat(node.stores()
                                    .syncOperations()
                                    .get((String) id)
                                    .await()
                                    .status())
                            .isEqualTo(SyncOperation.Status.COMPLETED);
                }
                JsonObject periodic = node.vertx()
                        .eventBus()
                        .<JsonObject>request(ScanAddresses.CONSISTENCY_CHECK, new JsonObject().put("onlyDue", true))
                        .await()
                        .body();
                assertThat(periodic.getJsonArray("operation_ids")).isEmpty();
                assertThat(periodic.getJsonArray("skipped").getList()).containsExactlyInAnyOrder("alpha", "beta");
                assertThat(http.get("/api/sync/status/alpha")
                                .bodyAsJsonObject()
                                .getJsonObject("summary")
                                .getLong("synced"))
                        .isEqualTo(1);
            } finally {
                node.stop().await();
            }
        }
    }

    @Test
    @DisplayName("An all-tenant analyze and the consistency check scan tenants with orphan points or blobs alone"
            + " (no records); each tenant's operation and sync.op_completed carry its own issue count")
    void allTenantScansFindOrphanOnlyTenants() throws Exception {
        try (RestartableStores stores = new RestartableStores()) {
            Node node = Node.start(stores.nodeConfig(Map.of("SYNC_PARTITIONS", "8")), false)
                    .await();
            try (Http http = new Http(node.vertx(), node.httpPort())) {
                Stores s = node.stores();
                Map<String, String> ids = new HashMap<>();
                for (String tenant : List.of("alpha", "beta", "gamma", "delta")) {
                    ids.put(
                            tenant,
                            http.upload(tenant, "a.txt", "text/plain", utf8(Fixtures.prose(60)), null)
                                    .bodyAsJsonObject()
                                    .getString("id"));
                }
                // alpha: one issue; beta: none; gamma: points alone; delta: a blob alone.
                s.vectors().deleteFile("alpha", ids.get("alpha")).await();
                FileRecord gamma = s.metadata().get(ids.get("gamma")).await();
                s.metadata().remove(gamma.id()).await();
                s.blobs().delete(key(gamma)).await();
                FileRecord delta = s.metadata().get(ids.get("delta")).await();
                s.metadata().remove(delta.id()).await();
                s.vectors().deleteFile("delta", delta.id()).await();

                var r = http.post(
                        "/api/sync/analyze",
                        "application/json",
                        Buffer.buffer(new JsonObject().put("mode", "full").encode()));
                assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
                assertThat(issues(r.bodyAsJsonObject()))
                        .as(r.bodyAsString())
                        .isEqualTo(Set.of(
                                "MISSING_VECTORS:" + ids.get("alpha"),
                                "ORPHAN_VECTORS:" + gamma.id(),
                                "ORPHAN_BLOB:" + delta.id()));
                Map<String, Long> counts = new HashMap<>();
                for (String tenant : List.of("alpha", "beta", "gamma", "delta")) {
                    List<SyncOperation> history = s.syncOperations()
                            .history(tenant, SyncOperation.Status.COMPLETED, 10)
                            .await();
                    assertThat(history).as("scans of %s", tenant).hasSize(1);
                    counts.put(tenant, history.get(0).result().getLong("issues"));
                    List<Long> completed = s.events().recent(tenant, 1000).await().stream()
                            .filter(e -> "sync.op_completed".equals(e.type()))
                            .map(e -> e.data().getJsonObject("result").getLong("issues"))
                            .toList();
                    assertThat(completed).as("sync.op_completed of %s", tenant).containsExactly(counts.get(tenant));
                }
                assertThat(counts)
                        .as("each tenant's own count")
                        .isEqualTo(Map.of("alpha", 1L, "beta", 0L, "gamma", 1L, "delta", 1L));

                var check = http.post("/api/sync/consistency-check", "application/json", Buffer.buffer(""));
                assertThat(check.statusCode()).as(check.bodyAsString()).isEqualTo(202);
                assertThat(check.bodyAsJsonObject().getJsonArray("operation_ids"))
                        .as(check.bodyAsString())
                        .hasSize(4);
            } finally {
                node.stop().await();
            }
        }
    }

    @Test
    @DisplayName("A store failing half way fails the scan with its reason and reports nothing as missing")
    void storeFailureFailsTheScan() throws Exception {
        try (RestartableStores stores = new RestartableStores()) {
            Node node = Node.start(stores.nodeConfig(Map.of("SYNC_PARTITIONS", "8")), false)
                    .await();
            try (Http http = new Http(node.vertx(), node.httpPort())) {
                String tenant = TestStack.unique("t");
                http.upload(tenant, "a.txt", "text/plain", utf8(Fixtures.prose(100)), null);
                stores.stopQdrant();
                var r = http.post(
                        "/api/sync/analyze",
                        "application/json",
                        Buffer.buffer(new JsonObject().put("user_id", tenant).encode()));
                assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(503);
                assertThat(r.bodyAsJsonObject().containsKey("issues")).isFalse();
                SyncOperation op = node.stores()
                        .syncOperations()
                        .history(tenant, null, 1)
                        .await()
                        .get(0);
                assertThat(op.status()).isEqualTo(SyncOperation.Status.FAILED);
                assertThat(op.errorMessage()).contains("store failure").contains("qdrant");
                stores.startQdrant();
            } finally {
                node.stop().await();
            }
        }
    }

    private static long count(Stores s, String tenant, String type) {
        return s.events().recent(tenant, 1000).await().stream()
                .filter(e -> type.equals(e.type()))
                .count();
    }

    private static String key(FileRecord f) {
        return StoreKeys.blobKey(f.tenantId(), f.partition(), f.id());
    }
}
