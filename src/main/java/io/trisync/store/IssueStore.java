package io.trisync.store;

import io.trisync.failure.Failure;
import io.vertx.core.Future;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The open inconsistencies found by scans (MongoDB {@code sync_issues}), one document per (tenant,
 * file, issue type), kept per partition so each scan can tell which issues appeared and which were
 * resolved. Futures fail with {@link Failure.Unavailable} when MongoDB cannot be reached.
 */
public interface IssueStore {

    Future<Void> init();

    /** The open issues of one (tenant, partition). */
    Future<List<IssueRecord>> open(String tenantId, int partition);

    /** Opens {@code added} and closes the issues with ids ({@link IssueRecord#id}) {@code resolved}. */
    default Future<Void> apply(List<IssueRecord> added, List<String> resolved) {
        return apply(added, List.of(), resolved);
    }

    /**
     * {@link #apply(List, List)}, also rewriting {@code restated}: known issues whose details changed,
     * each only while it is still open (a repair that closed it meanwhile is not undone).
     */
    Future<Void> apply(List<IssueRecord> added, List<IssueRecord> restated, List<String> resolved);

    /** The open issues of a tenant, at most {@code limit}, by file id. */
    Future<List<IssueRecord>> openFor(String tenantId, int limit);

    /** Every tenant with at least one open issue, sorted. */
    Future<List<String>> tenants();

    /** Open issues of every tenant by type. */
    Future<Map<String, Long>> countByType();

    /** Of {@code fileIds}, those with an open issue. */
    Future<Set<String>> filesAmong(List<String> fileIds);

    /** The open issues of one file of a tenant. */
    Future<List<IssueRecord>> ofFile(String tenantId, String fileId);

    /** The id of an issue document: tenant, file and type. */
    static String id(String tenantId, String fileId, String type) {
        return tenantId + "\u0000" + fileId + "\u0000" + type;
    }
}
