package io.trisync.repair;

import static org.assertj.core.api.Assertions.assertThat;

import io.trisync.Node;
import io.trisync.store.BlobInfo;
import io.trisync.store.ChunkPoint;
import io.trisync.store.FileRecord;
import io.trisync.store.MetadataStore.FileQuery;
import io.trisync.store.Page;
import io.trisync.store.StoreKeys;
import io.trisync.store.Stores;
import io.trisync.testsupport.Await;
import io.trisync.testsupport.Http;
import io.trisync.testsupport.SharedNodes;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * What the repair tests share: their node, the calls of the sync API they make, and views of what the
 * three stores hold for a tenant.
 */
final class RepairFixture {

    static final int P = 8;
    static final String BACKUP = "backup~/";

    private RepairFixture() {}

    /**
     * The node of the repair tests that neither stop nor reconfigure it: started once per JVM on the
     * shared stack, {@link #P} partitions, backups under {@link #BACKUP}. Each test uses its own tenant.
     */
    static Node node() {
        return SharedNodes.node("repair", Map.of("SYNC_PARTITIONS", "" + P, "SYNC_BACKUP_PREFIX", BACKUP));
    }

    static void assertBad(Http http, JsonObject body, String field) {
        var r = post(http, "/api/sync/fix", body);
        assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(400);
        assertThat(r.bodyAsString()).contains(field);
    }

    static JsonObject fixAndWait(Http http, String tenant) {
        var started = post(
                http, "/api/sync/fix", new JsonObject().put("user_id", tenant).put("dry_run", false));
        assertThat(started.statusCode()).as(started.bodyAsString()).isEqualTo(202);
        return awaitFix(http, started.bodyAsJsonObject().getString("operation_id"));
    }

    /** Polls the fix operation {@code opId} until it no longer runs; returns its last report. */
    static JsonObject awaitFix(Http http, String opId) {
        return Await.value(
                "fix " + opId + " to end",
                120_000,
                () -> {
                    var r = http.get("/api/sync/fix/" + opId);
                    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
                    return r.bodyAsJsonObject();
                },
                body -> !"running".equals(body.getJsonObject("operation").getString("status")));
    }

    static HttpResponse<Buffer> post(Http http, String path, JsonObject body) {
        return http.post(path, "application/json", Buffer.buffer(body.encode()));
    }

    static JsonObject analyze(Http http, String tenant) {
        var r = post(http, "/api/sync/analyze", new JsonObject().put("user_id", tenant));
        assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
        return r.bodyAsJsonObject();
    }

    static Set<String> issues(JsonObject report) {
        Set<String> out = new HashSet<>();
        report.getJsonArray("issues")
                .forEach(
                        i -> out.add(((JsonObject) i).getString("type") + ":" + ((JsonObject) i).getString("file_id")));
        return out;
    }
    /** Everything the three stores hold for a tenant (objects with ETags, points with payload, records with versions). */
    static Set<String> snapshot(Stores s, String tenant) {
        Set<String> out = new TreeSet<>();
        String token = null;
        do {
            Page<BlobInfo> page =
                    s.blobs().list(tenant + "/", token, 1000, false).await();
            page.items().forEach(b -> out.add("s3 " + b.key() + " " + b.etag() + " " + b.size()));
            token = page.next();
        } while (token != null);
        String offset = null;
        do {
            Page<ChunkPoint> page =
                    s.vectors().scroll(tenant, null, offset, 1000).await();
            page.items().forEach(p -> out.add("qdrant " + p.id() + " " + p.contentSha256() + " " + p.model()));
            offset = page.next();
        } while (offset != null);
        String after = null;
        do {
            Page<FileRecord> page =
                    s.metadata().list(FileQuery.tenant(tenant), after, 1000).await();
            page.items()
                    .forEach(r -> out.add("mongo " + r.id() + " " + r.version() + " " + r.size() + " " + r.sha256()
                            + " " + r.status()));
            after = page.next();
        } while (after != null);
        return out;
    }

    static long events(Stores s, String tenant, String type) {
        return s.events().recent(tenant, 1000).await().stream()
                .filter(e -> type.equals(e.type()))
                .count();
    }

    static String key(FileRecord f) {
        return StoreKeys.blobKey(f.tenantId(), f.partition(), f.id());
    }

    static float[] vector() {
        float[] v = new float[384];
        v[0] = 1;
        return v;
    }

    static ChunkPoint point(FileRecord f, int chunk, String sha, String model) {
        return ChunkPoint.of(f.tenantId(), f.id(), chunk, f.partition(), sha, model, vector());
    }

    /** The objects under a tenant's quarantine prefix: key → size. */
    static Map<String, Long> quarantinedObjects(Stores s, String tenant) {
        Map<String, Long> out = new HashMap<>();
        String token = null;
        do {
            Page<BlobInfo> page = s.blobs()
                    .list(Quarantine.PREFIX + tenant + "/", token, 1000, false)
                    .await();
            page.items().forEach(o -> out.put(o.key(), o.size()));
            token = page.next();
        } while (token != null);
        return out;
    }

    static FileRecord withSha(FileRecord r, String sha256) {
        return new FileRecord(
                r.id(),
                r.tenantId(),
                r.name(),
                r.contentType(),
                r.size(),
                sha256,
                r.status(),
                r.version(),
                r.partition(),
                r.embedding(),
                r.createdAt(),
                r.updatedAt(),
                r.sync());
    }

    /** A copy with another size and status; like a record written by hand, it carries no blob ETag. */
    static FileRecord with(FileRecord r, long size, FileRecord.Status status) {
        return new FileRecord(
                r.id(),
                r.tenantId(),
                r.name(),
                r.contentType(),
                size,
                r.sha256(),
                status,
                r.version(),
                r.partition(),
                r.embedding(),
                r.createdAt(),
                r.updatedAt(),
                r.sync());
    }
}
