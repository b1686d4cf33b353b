package io.trisync.scan;

import io.trisync.failure.Failure;
import io.trisync.scan.ScanMessages.StatusQuery;
import io.trisync.store.FileRecord;
import io.trisync.store.Ids;
import io.trisync.store.IssueRecord;
import io.trisync.store.Page;
import io.trisync.store.PartitionCheck;
import io.trisync.store.Stores;
import io.trisync.store.SyncVerdict;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * A tenant's sync state as the last scans left it: counts by verdict, open issues by type, the last
 * completed scan, and a page of files (newest first) with their verdict and where each exists.
 */
final class TenantStatus {

    private static final int MAX_ISSUES_COUNTED = 10_000;
    /** Open issues listed in a tenant's status (all are counted). */
    private static final int LISTED_ISSUES = 200;
    /** Tenants in the overview. */
    private static final int MAX_TENANTS = 500;

    private final Stores stores;

    TenantStatus(Stores stores) {
        this.stores = stores;
    }

    Future<JsonObject> of(JsonObject request) {
        StatusQuery query = StatusQuery.fromJson(request);
        String tenant = Ids.require("user_id", query.tenantId());
        int limit = query.limit();
        if (limit < 1 || limit > 500) {
            throw new Failure.BadRequest("limit must be between 1 and 500");
        }
        String cursor = query.cursor();
        if (cursor != null && !Ids.valid(cursor)) {
            throw new Failure.BadRequest("cursor is not one this API returned");
        }
        // A file whose upload has not committed is not listed (an undo may still remove it).
        var page = stores.metadata().listNewest(tenant, cursor, limit).compose(listed -> stores.operations()
                .uploading(listed.items().stream().map(FileRecord::id).toList())
                .map(uploading -> new Page<>(
                        listed.items().stream()
                                .filter(f -> !uploading.contains(f.id()))
                                .toList(),
                        listed.next())));
        var synced = stores.metadata().countVerdict(tenant, Verdict.SYNCED.wire());
        var outOfSync = stores.metadata().countVerdict(tenant, Verdict.OUT_OF_SYNC.wire());
        var missing = stores.metadata().countVerdict(tenant, Verdict.MISSING.wire());
        var error = stores.metadata().countVerdict(tenant, Verdict.ERROR.wire());
        var unchecked = stores.metadata().countVerdict(tenant, null);
        var issues = stores.issues().openFor(tenant, MAX_ISSUES_COUNTED);
        var lastScan = stores.syncOperations().lastScan(tenant);
        var checks = stores.metadata().partitionChecks(tenant);
        return Future.all(List.of(page, synced, outOfSync, missing, error, unchecked, issues, lastScan, checks))
                .map(all -> {
                    Map<String, Long> byType = new TreeMap<>();
                    issues.result().forEach(i -> byType.merge(i.type(), 1L, Long::sum));
                    return new JsonObject()
                            .put("user_id", tenant)
                            .put(
                                    "summary",
                                    new JsonObject()
                                            .put("synced", synced.result())
                                            .put("out_of_sync", outOfSync.result())
                                            .put("missing", missing.result())
                                            .put("error", error.result())
                                            .put("unchecked", unchecked.result())
                                            .put("open_issues", issues.result().size())
                                            .put("issues_by_type", new JsonObject(Map.copyOf(byType))))
                            .put(
                                    "last_scan_at",
                                    lastScan.result() == null
                                            ? null
                                            : lastScan.result().toString())
                            .put(
                                    "files",
                                    new JsonArray(page.result().items().stream()
                                            .map(f -> file(f, checks.result().get(f.partition())))
                                            .toList()))
                            .put("next_cursor", page.result().next())
                            .put(
                                    "issues",
                                    new JsonArray(issues.result().stream()
                                            .limit(LISTED_ISSUES)
                                            .map(TenantStatus::issue)
                                            .toList()));
                });
    }

    /** Every tenant's summary (no files), with its running operation: the admin overview. */
    Future<JsonObject> overview(JsonObject request) {
        return Future.all(stores.metadata().tenants(), stores.issues().tenants())
                .compose(all -> {
                    TreeSet<String> tenants = new TreeSet<>(all.<List<String>>resultAt(0));
                    tenants.addAll(all.<List<String>>resultAt(1));
                    List<Future<JsonObject>> each = tenants.stream()
                            .limit(MAX_TENANTS)
                            .map(t -> of(new StatusQuery(t, 1, null).toJson()).compose(status -> stores.syncOperations()
                                    .running(t)
                                    .map(op -> {
                                        status.remove("files");
                                        status.remove("next_cursor");
                                        status.remove("issues");
                                        return status.put("running", op == null ? null : op.toPublicJson());
                                    })))
                            .toList();
                    return Future.all(each).map(v -> new JsonObject()
                            .put(
                                    "tenants",
                                    new JsonArray(
                                            each.stream().map(Future::result).toList()))
                            .put("truncated", tenants.size() > MAX_TENANTS));
                });
    }

    private static JsonObject issue(IssueRecord issue) {
        IssueType type = IssueType.valueOf(issue.type());
        return new JsonObject()
                .put("type", type.name())
                .put("file_id", issue.fileId())
                .put("file_name", issue.fileName())
                .put("description", type.description())
                .put("suggested_action", type.suggestedAction())
                .put("details", issue.details());
    }

    /**
     * One file: its verdict and, per store, what the last check found: {@code present} or {@code
     * missing}; {@code unchecked} when no scan has looked at the file yet; {@code none} for Qdrant
     * when the file has no chunks to hold. MongoDB's is {@code present}: the record was just read there.
     * It was last checked at its own verdict's time or at its partition's last check, the later.
     */
    private static JsonObject file(FileRecord f, PartitionCheck check) {
        SyncVerdict sync = f.sync();
        List<String> types = sync == null ? List.of() : sync.issues();
        int chunks = f.embedding() == null ? 0 : f.embedding().chunks();
        String s3 = sync == null ? UNCHECKED : types.contains(IssueType.MISSING_BLOB.name()) ? MISSING : PRESENT;
        String qdrant = chunks == 0
                ? NONE
                : sync == null ? UNCHECKED : types.contains(IssueType.MISSING_VECTORS.name()) ? MISSING : PRESENT;
        return new JsonObject()
                .put("id", f.id())
                .put("name", f.name())
                .put("size", f.size())
                .put("chunks", chunks)
                .put("status", sync == null ? UNCHECKED : sync.verdict())
                .put("issues", new JsonArray(types))
                .put("checked_at", sync == null ? null : later(sync.checkedAt(), check))
                .put(
                        "stores",
                        new JsonObject().put("mongodb", PRESENT).put("s3", s3).put("qdrant", qdrant));
    }

    /** The later of a verdict's check time and its partition's last check (ISO-8601 instants). */
    static String later(String checkedAt, PartitionCheck check) {
        if (check == null || check.checkedAt() == null) {
            return checkedAt;
        }
        if (checkedAt == null) {
            return check.checkedAt();
        }
        return Instant.parse(check.checkedAt()).isAfter(Instant.parse(checkedAt)) ? check.checkedAt() : checkedAt;
    }

    private static final String PRESENT = "present";
    private static final String MISSING = "missing";
    private static final String UNCHECKED = "unchecked";
    private static final String NONE = "none";
}
