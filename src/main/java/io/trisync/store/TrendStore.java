package io.trisync.store;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The bounded time series of scan results that the admin UI charts: each completed full or deep scan
 * of a tenant appends one sample for it and one for all tenants together (the sum of every tenant's
 * latest sample). At most {@link #KEPT} samples per scope are kept, the oldest removed first.
 */
public interface TrendStore {

    /** Samples kept per scope (a tenant, or {@link #ALL}). */
    int KEPT = 500;

    /** The scope of the samples summed over every tenant. */
    String ALL = "all";

    /** One scan's counts: files by verdict and open issues by type, at {@code at}. */
    record Sample(
            String scope,
            Instant at,
            long totalFiles,
            long synced,
            long outOfSync,
            long missing,
            long error,
            Map<String, Long> issuesByType) {

        /**
         * The stored document's field names, also those of a scan report's {@code summary} that
         * {@link #ofSummary} reads.
         */
        public static final String SCOPE = "scope";

        public static final String AT = "at";
        public static final String TOTAL_FILES = "total_files";
        public static final String SYNCED = "synced";
        public static final String OUT_OF_SYNC = "out_of_sync";
        public static final String MISSING = "missing";
        public static final String ERROR = "error";
        public static final String ISSUES_BY_TYPE = "issues_by_type";
        public static final String DRIFT_RATIO = "drift_ratio";

        public Sample {
            issuesByType = Map.copyOf(issuesByType);
            at = at.truncatedTo(ChronoUnit.MILLIS);
        }

        /** The share of files not in sync (out of sync, missing or in error); 0 without files. */
        public double driftRatio() {
            return totalFiles == 0 ? 0 : (double) (outOfSync + missing + error) / totalFiles;
        }

        /** The scan report's {@code summary} as a sample of {@code scope}. */
        public static Sample ofSummary(String scope, Instant at, JsonObject summary) {
            Map<String, Long> byType = new TreeMap<>();
            summary.getJsonObject(ISSUES_BY_TYPE, new JsonObject())
                    .forEach(e -> byType.put(e.getKey(), ((Number) e.getValue()).longValue()));
            return new Sample(
                    scope,
                    at,
                    summary.getLong(TOTAL_FILES, 0L),
                    summary.getLong(SYNCED, 0L),
                    summary.getLong(OUT_OF_SYNC, 0L),
                    summary.getLong(MISSING, 0L),
                    summary.getLong(ERROR, 0L),
                    byType);
        }

        /** {@code samples} added up as one sample of {@code scope} at {@code at}. */
        public static Sample sum(String scope, Instant at, List<Sample> samples) {
            long[] n = new long[5];
            Map<String, Long> byType = new TreeMap<>();
            for (Sample s : samples) {
                n[0] += s.totalFiles();
                n[1] += s.synced();
                n[2] += s.outOfSync();
                n[3] += s.missing();
                n[4] += s.error();
                s.issuesByType().forEach((type, count) -> byType.merge(type, count, Long::sum));
            }
            return new Sample(scope, at, n[0], n[1], n[2], n[3], n[4], byType);
        }

        /** The stored document (also the API's shape). */
        public JsonObject toDocument() {
            return new JsonObject()
                    .put(SCOPE, scope)
                    .put(AT, at.toString())
                    .put(TOTAL_FILES, totalFiles)
                    .put(SYNCED, synced)
                    .put(OUT_OF_SYNC, outOfSync)
                    .put(MISSING, missing)
                    .put(ERROR, error)
                    .put(ISSUES_BY_TYPE, new JsonObject(new TreeMap<>(issuesByType)))
                    .put(DRIFT_RATIO, Math.round(driftRatio() * 10_000) / 10_000.0);
        }

        public static Sample fromDocument(JsonObject d) {
            return ofSummary(d.getString(SCOPE), Instant.parse(d.getString(AT)), d);
        }
    }

    Future<Void> init();

    /** Appends {@code sample} (a tenant's) and the new sum over every tenant's latest sample. */
    Future<Void> append(Sample sample);

    /** The latest {@code limit} samples of {@code scope}, oldest first. */
    Future<List<Sample>> recent(String scope, int limit);
}
