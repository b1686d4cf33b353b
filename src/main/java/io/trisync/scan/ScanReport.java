package io.trisync.scan;

import io.trisync.store.TrendStore;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The summary of a scan as partitions are reconciled: counts by verdict and by store, issues by type,
 * and the issues themselves up to a cap (the counts always cover everything). Pure.
 *
 * <p>{@code total_files} and the verdict counts are of active files (records that are not a deleted
 * file's tombstone), the files a tenant's status and the {@code trisync_files} metric count; a
 * tombstone's leftovers and orphans show as issues only. Files left unjudged because an ingest
 * operation was writing them are counted apart ({@code in_flight}); the active ones among them are
 * in {@code total_files} too, under no verdict.
 */
public final class ScanReport {

    /** At most this many issues are listed; {@code issues_truncated} says when there were more. */
    public static final int LISTED_ISSUES = 1000;

    /** At most this many keys of objects trisync did not write are listed ({@code foreign_objects}). */
    public static final int LISTED_FOREIGN = 100;

    private final String scope;
    private final String mode;
    private final Instant started = Instant.now();
    private final Map<Verdict, Long> verdicts = new EnumMap<>(Verdict.class);
    private final Map<IssueType, Long> issuesByType = new EnumMap<>(IssueType.class);
    private final JsonArray issues = new JsonArray();
    private long total;
    private long seen;
    private long inFlight;
    private long inMongo;
    private long inS3;
    private long inQdrant;
    private long issueCount;
    private long foreignObjects;
    private long foreignPoints;
    private final JsonArray foreignKeys = new JsonArray();
    private final Map<String, Long> scannedBy = new TreeMap<>();
    private long population = -1;
    private long sampled;
    private long sampledInconsistent;
    private long seed;

    public ScanReport(String scope, String mode) {
        this.scope = scope;
        this.mode = mode;
    }

    /** Adds one file's reconciliation. */
    public void add(FileReport file) {
        seen(file);
        if (file.active()) {
            verdicts.merge(file.verdict(), 1L, Long::sum);
        }
        for (FileReport.Issue issue : file.issues()) {
            issueCount++;
            issuesByType.merge(issue.type(), 1L, Long::sum);
            if (issues.size() < LISTED_ISSUES) {
                issues.add(issue.toJson());
            }
        }
    }

    /** Adds a file left unjudged because an ingest operation was writing it, as the listings showed it. */
    public void addInFlight(FileReport file) {
        seen(file);
        inFlight++;
    }

    private void seen(FileReport file) {
        seen++;
        total += file.active() ? 1 : 0;
        inMongo += file.inMongo() ? 1 : 0;
        inS3 += file.inS3() ? 1 : 0;
        inQdrant += file.inQdrant() ? 1 : 0;
    }

    /** Adds a partition summarised where it was scanned (possibly on another node). */
    public void add(JsonObject part) {
        total += part.getLong(Part.TOTAL);
        seen += part.getLong(Part.SEEN, part.getLong(Part.TOTAL));
        inFlight += part.getLong(Part.IN_FLIGHT, 0L);
        part.getJsonObject(Part.VERDICTS)
                .forEach(e ->
                        verdicts.merge(Verdict.valueOf(e.getKey()), ((Number) e.getValue()).longValue(), Long::sum));
        inMongo += part.getLong(Part.MONGODB);
        inS3 += part.getLong(Part.S3);
        inQdrant += part.getLong(Part.QDRANT);
        part.getJsonObject(Part.ISSUES_BY_TYPE)
                .forEach(e -> issuesByType.merge(
                        IssueType.valueOf(e.getKey()), ((Number) e.getValue()).longValue(), Long::sum));
        issueCount += part.getLong(Part.ISSUE_COUNT);
        sampled += part.getLong(Part.SAMPLED, 0L);
        sampledInconsistent += part.getLong(Part.SAMPLED_INCONSISTENT, 0L);
        foreignObjects += part.getLong(Part.FOREIGN_OBJECT_COUNT, 0L);
        foreignPoints += part.getLong(Part.FOREIGN_POINTS, 0L);
        for (Object key : part.getJsonArray(Part.FOREIGN_OBJECTS, new JsonArray())) {
            if (foreignKeys.size() < LISTED_FOREIGN) {
                foreignKeys.add(key);
            }
        }
        if (part.getString(Part.NODE) != null) {
            scannedBy.merge(part.getString(Part.NODE), 1L, Long::sum);
        }
        for (Object issue : part.getJsonArray(Part.ISSUES)) {
            if (issues.size() < LISTED_ISSUES) {
                issues.add(issue);
            }
        }
    }

    /** The field of {@link #toJson()} holding the counts (a trend {@link TrendStore.Sample}'s fields among them). */
    public static final String SUMMARY = "summary";

    /**
     * A partition's summary as it travels back to the scan's coordinator: counts, and its issues up to
     * {@link #LISTED_ISSUES} (a report never lists more).
     */
    public static final class Part {
        /** The summary's field names: {@code total} counts active files, {@code seen} every file reported. */
        public static final String TOTAL = "total";

        public static final String SEEN = "seen";
        public static final String IN_FLIGHT = "inFlight";

        public static final String VERDICTS = "verdicts";
        public static final String MONGODB = "mongodb";
        public static final String S3 = "s3";
        public static final String QDRANT = "qdrant";
        public static final String ISSUES_BY_TYPE = "issuesByType";
        public static final String ISSUE_COUNT = "issueCount";
        public static final String ISSUES = "issues";
        /** Added by the node that scanned the partition: its id, and a quick check's sample. */
        public static final String NODE = "node";

        public static final String SAMPLED = "sampled";
        public static final String SAMPLED_INCONSISTENT = "sampledInconsistent";

        /**
         * What the partition holds that trisync did not write, which no issue names and no repair
         * touches: the keys of its foreign objects (up to {@link #LISTED_FOREIGN}), their count, and
         * the count of its foreign points.
         */
        public static final String FOREIGN_OBJECTS = "foreignObjects";

        public static final String FOREIGN_OBJECT_COUNT = "foreignObjectCount";
        public static final String FOREIGN_POINTS = "foreignPoints";

        private Part() {}

        /** Adds to {@code part} the keys of the partition's objects trisync did not write and its foreign points' count. */
        public static JsonObject foreign(JsonObject part, List<String> objectKeys, long points) {
            return part.put(
                            FOREIGN_OBJECTS,
                            new JsonArray(objectKeys.subList(0, Math.min(objectKeys.size(), LISTED_FOREIGN))))
                    .put(FOREIGN_OBJECT_COUNT, (long) objectKeys.size())
                    .put(FOREIGN_POINTS, points);
        }

        public static JsonObject of(List<FileReport> files) {
            return of(files, List.of());
        }

        /** {@code inFlight}: the files left unjudged because an ingest operation was writing them. */
        public static JsonObject of(List<FileReport> files, List<FileReport> inFlight) {
            ScanReport one = new ScanReport("partition", "");
            files.forEach(one::add);
            inFlight.forEach(one::addInFlight);
            JsonObject v = new JsonObject();
            one.verdicts.forEach((k, n) -> v.put(k.name(), n));
            JsonObject t = new JsonObject();
            one.issuesByType.forEach((k, n) -> t.put(k.name(), n));
            return new JsonObject()
                    .put(Part.TOTAL, one.total)
                    .put(Part.SEEN, one.seen)
                    .put(Part.IN_FLIGHT, one.inFlight)
                    .put(Part.VERDICTS, v)
                    .put(Part.MONGODB, one.inMongo)
                    .put(Part.S3, one.inS3)
                    .put(Part.QDRANT, one.inQdrant)
                    .put(Part.ISSUES_BY_TYPE, t)
                    .put(Part.ISSUE_COUNT, one.issueCount)
                    .put(Part.ISSUES, one.issues);
        }
    }

    /** Marks the report as a quick check's over {@code activeFiles} files. */
    public void population(long activeFiles) {
        population = Math.max(population, 0) + activeFiles;
    }

    /** The seed of a quick check's sample: the same seed draws the same sample again. */
    public void seed(long seed) {
        this.seed = seed;
    }

    public long issueCount() {
        return issueCount;
    }

    /** How many issues of these types the scan found. */
    public long issuesOf(IssueType... types) {
        long n = 0;
        for (IssueType type : types) {
            n += issuesByType.getOrDefault(type, 0L);
        }
        return n;
    }

    /** The report as the API answers it (snake_case). */
    public JsonObject toJson() {
        JsonObject byType = new JsonObject();
        issuesByType.forEach((t, n) -> byType.put(t.name(), n));
        JsonObject out = new JsonObject();
        if (population >= 0) {
            Sample.Estimate e = Sample.estimate(sampled, sampledInconsistent);
            out.put(
                    "sample",
                    new JsonObject()
                            .put("population", population)
                            .put("sample_size", sampled)
                            .put("seed", seed)
                            .put("inconsistent", sampledInconsistent)
                            .put("estimated_inconsistency_rate", e.rate())
                            .put("ci95_low", e.low())
                            .put("ci95_high", e.high())
                            .put(
                                    "method",
                                    "Bernoulli sample checked in full (content re-hashed); Wilson score interval"));
        }
        return out.put("scope", scope)
                .put("mode", mode)
                .put("generated_at", Instant.now().toString())
                .put("duration_ms", Instant.now().toEpochMilli() - started.toEpochMilli())
                .put(
                        SUMMARY,
                        new JsonObject()
                                .put(TrendStore.Sample.TOTAL_FILES, total)
                                .put(TrendStore.Sample.SYNCED, verdicts.getOrDefault(Verdict.SYNCED, 0L))
                                .put(TrendStore.Sample.OUT_OF_SYNC, verdicts.getOrDefault(Verdict.OUT_OF_SYNC, 0L))
                                .put(TrendStore.Sample.MISSING, verdicts.getOrDefault(Verdict.MISSING, 0L))
                                .put(TrendStore.Sample.ERROR, verdicts.getOrDefault(Verdict.ERROR, 0L))
                                .put("in_flight", inFlight)
                                .put(
                                        "by_store",
                                        new JsonObject()
                                                .put("mongodb", inMongo)
                                                .put("s3", inS3)
                                                .put("qdrant", inQdrant))
                                .put(TrendStore.Sample.ISSUES_BY_TYPE, byType)
                                .put(
                                        "foreign",
                                        new JsonObject()
                                                .put("objects", foreignObjects)
                                                .put("points", foreignPoints)))
                .put("issues", issues)
                .put("issues_truncated", issueCount > issues.size())
                .put("foreign_objects", foreignKeys)
                .put("scanned_by", new JsonObject(new LinkedHashMap<>(scannedBy)));
    }
}
