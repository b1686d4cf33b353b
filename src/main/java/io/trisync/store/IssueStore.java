package io.trisync.store;

import io.trisync.failure.Failure;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * The open inconsistencies found by scans (MongoDB {@code sync_issues}), one document per (tenant,
 * file, issue type), kept per partition so each scan can tell which issues appeared and which were
 * resolved. Futures fail with {@link Failure.Unavailable} when MongoDB cannot be reached.
 */
public interface IssueStore {

    Future<Void> init();

    /** The open issues of one (tenant, partition): documents with {@code _id}, {@code fileId}, {@code type}. */
    Future<List<JsonObject>> open(String tenantId, int partition);

    /** Opens {@code added} (documents as {@link #open} returns them) and closes the issues with ids {@code resolved}. */
    Future<Void> apply(List<JsonObject> added, List<String> resolved);

    /** The open issues of a tenant, at most {@code limit}. */
    Future<List<JsonObject>> openFor(String tenantId, int limit);

    /** Every tenant with at least one open issue, sorted. */
    Future<List<String>> tenants();

    /** The id of an issue document: tenant, file and type. */
    static String id(String tenantId, String fileId, String type) {
        return tenantId + "\u0000" + fileId + "\u0000" + type;
    }
}
