package io.trisync.scan;

import io.trisync.scan.FileReport.Issue;
import io.trisync.scan.Listings.Blob;
import io.trisync.scan.Listings.Meta;
import io.trisync.scan.Listings.Point;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;

/**
 * The reconciliation engine: from the three listings of one (tenant, partition) to one report per
 * file seen in any store, in file-id order. Pure and single-threaded; memory is bounded by the
 * partition. A file is synced when its active metadata, its blob (same size, same sha256 where known)
 * and a point for every chunk (made from the current content with the recorded model) all exist; a
 * deleted file is synced when neither blob nor points remain. An active file whose text extraction
 * failed at ingest (its metadata carries the reason) has {@code EMBEDDING_FAILED} and is {@code error},
 * never synced; so is a file a repair left to a person (its metadata carries the reason) while its
 * issues remain.
 */
public final class Reconciler {

    /** At most this many chunk numbers are listed in an issue's details. */
    static final int LISTED_CHUNKS = 20;

    /**
     * The details of a {@code CHECKSUM_MISMATCH}: the recorded sha256, the one the object holds, and
     * which object that was ({@link Listings.Version}, when known).
     */
    static final String RECORDED = "recorded";

    static final String ACTUAL = "actual";
    static final String OBJECT = "object";

    /** The model the node embeds with now ({@code name@dimension} or the local model's name); null: not compared. */
    private final String currentModel;

    /** A reconciler that does not compare files' models with the one in use. */
    public Reconciler() {
        this(null);
    }

    /** A reconciler for which a file embedded by another model than {@code currentModel} is {@code STALE_VECTORS}. */
    public Reconciler(String currentModel) {
        this.currentModel = currentModel;
    }

    public List<FileReport> reconcile(Listings.Partition partition) {
        return reconcile(partition, null);
    }

    /**
     * As {@link #reconcile(Listings.Partition)}, while the embedding model changes to {@code
     * targetModel}'s collection: a point of that model is the new collection's copy, any other the
     * serving collection's. A file whose record names the target model is judged by the new copy
     * alone, any other file by the serving collection's points (a file without a record keeps every
     * point, all orphans). So points of a third model that an earlier change in place left in the
     * serving collection neither make a re-embedded file stale nor hide behind the new copy.
     */
    public List<FileReport> reconcile(Listings.Partition partition, String targetModel) {
        Map<String, Meta> metas = new HashMap<>(capacity(partition.metadata().size()));
        partition.metadata().forEach(m -> metas.put(m.fileId(), m));
        Map<String, Blob> blobs = new HashMap<>(capacity(partition.blobs().size()));
        partition.blobs().forEach(b -> blobs.put(b.fileId(), b));
        Map<String, List<Point>> points =
                new HashMap<>(capacity(partition.points().size()));
        partition.points().forEach(p -> points.computeIfAbsent(p.fileId(), k -> new ArrayList<>(2))
                .add(p));
        // Every file id seen in any store, sorted, each once.
        List<String> ids = new ArrayList<>(metas.size() + blobs.size() + points.size());
        ids.addAll(metas.keySet());
        ids.addAll(blobs.keySet());
        ids.addAll(points.keySet());
        ids.sort(null);
        List<FileReport> reports = new ArrayList<>(metas.size() + 16);
        String previous = null;
        for (String id : ids) {
            if (id.equals(previous)) {
                continue;
            }
            previous = id;
            Meta meta = metas.get(id);
            reports.add(file(id, meta, blobs.get(id), ownCopy(meta, points.getOrDefault(id, List.of()), targetModel)));
        }
        return reports;
    }

    /** The points a file is judged by while a change of model runs (see {@link #reconcile(Listings.Partition, String)}). */
    private static List<Point> ownCopy(Meta meta, List<Point> points, String targetModel) {
        if (targetModel == null || meta == null || meta.deleted() || points.isEmpty()) {
            return points;
        }
        boolean renewed = targetModel.equals(meta.model());
        List<Point> own = new ArrayList<>(points.size());
        for (Point p : points) {
            if (targetModel.equals(p.model()) == renewed) {
                own.add(p);
            }
        }
        return own;
    }

    private static int capacity(int entries) {
        return Math.max(16, (int) (entries / 0.75f) + 1);
    }

    private FileReport file(String id, Meta meta, Blob blob, List<Point> points) {
        List<Issue> issues = new ArrayList<>();
        String name = meta == null ? null : meta.name();
        if (meta == null) {
            if (blob != null) {
                issues.add(new Issue(IssueType.ORPHAN_BLOB, id, null, new JsonObject().put("size", blob.size())));
            }
            if (!points.isEmpty()) {
                issues.add(
                        new Issue(IssueType.ORPHAN_VECTORS, id, null, new JsonObject().put("points", points.size())));
            }
        } else if (meta.unreadable() != null) {
            // Neither active nor deleted: its blob and points are not judged (nor orphans), a person decides.
            issues.add(
                    new Issue(IssueType.UNREADABLE_RECORD, id, name, new JsonObject().put("field", meta.unreadable())));
        } else if (meta.deleted()) {
            if (blob != null || !points.isEmpty()) {
                issues.add(new Issue(
                        IssueType.DELETE_INCOMPLETE,
                        id,
                        name,
                        new DeleteLeftovers(blob != null, points.size()).toJson()));
            }
        } else {
            embedding(meta, issues);
            content(meta, blob, issues);
            vectors(meta, points, issues);
        }
        return new FileReport(
                id,
                name,
                verdict(meta, issues),
                // An unreadable record is not counted among the active files (it is not listed as one).
                meta != null && !meta.deleted() && meta.unreadable() == null,
                meta != null,
                blob != null,
                !points.isEmpty(),
                List.copyOf(issues));
    }

    private static void embedding(Meta meta, List<Issue> issues) {
        if (meta.embeddingFailure() != null) {
            issues.add(new Issue(
                    IssueType.EMBEDDING_FAILED,
                    meta.fileId(),
                    meta.name(),
                    new JsonObject().put("reason", meta.embeddingFailure())));
        }
    }

    private static void content(Meta meta, Blob blob, List<Issue> issues) {
        if (blob == null) {
            issues.add(new Issue(IssueType.MISSING_BLOB, meta.fileId(), meta.name(), new JsonObject()));
            return;
        }
        if (blob.size() != meta.size()) {
            issues.add(new Issue(
                    IssueType.SIZE_MISMATCH,
                    meta.fileId(),
                    meta.name(),
                    new JsonObject().put("recorded", meta.size()).put("actual", blob.size())));
        }
        if (blob.sha256() != null && meta.sha256() != null && !blob.sha256().equals(meta.sha256())) {
            JsonObject details = new JsonObject().put(RECORDED, meta.sha256()).put(ACTUAL, blob.sha256());
            if (blob.version() != null) {
                // Which object hashed so: a later full scan keeps the finding while the object is unchanged.
                details.put(OBJECT, blob.version().toJson());
            }
            issues.add(new Issue(IssueType.CHECKSUM_MISMATCH, meta.fileId(), meta.name(), details));
        }
    }

    private void vectors(Meta meta, List<Point> points, List<Issue> issues) {
        if (Meta.PENDING.equals(meta.indexing())) {
            // Its vectors wait in the index queue (the embedding service was down at upload).
            return;
        }
        if (Meta.LOST.equals(meta.indexing())) {
            issues.add(new Issue(
                    IssueType.MISSING_VECTORS,
                    meta.fileId(),
                    meta.name(),
                    new JsonObject()
                            .put("reason", "its vectors were left pending and no index-queue entry makes them")));
            return;
        }
        TreeSet<Integer> present = new TreeSet<>();
        boolean stale = !Objects.equals(meta.contentSha256(), meta.sha256()) && meta.chunks() > 0;
        // The model changed since the file was embedded (EMBEDDING_MODEL, EMBEDDING_PROVIDER): re-index it.
        boolean otherModel = currentModel != null && meta.chunks() > 0 && !currentModel.equals(meta.model());
        stale |= otherModel;
        for (Point p : points) {
            present.add(p.chunk());
            stale |= !Objects.equals(p.contentSha256(), meta.sha256()) || !Objects.equals(p.model(), meta.model());
        }
        if (meta.chunks() > 0 && present.isEmpty()) {
            issues.add(new Issue(
                    IssueType.MISSING_VECTORS,
                    meta.fileId(),
                    meta.name(),
                    new JsonObject().put("chunks", meta.chunks())));
            return;
        }
        List<Integer> missing = new ArrayList<>();
        for (int c = 0; c < meta.chunks(); c++) {
            if (!present.contains(c)) {
                missing.add(c);
            }
        }
        if (!missing.isEmpty()) {
            issues.add(new Issue(IssueType.MISSING_CHUNKS, meta.fileId(), meta.name(), chunkDetails(missing, meta)));
        }
        List<Integer> extra =
                present.stream().filter(c -> c < 0 || c >= meta.chunks()).toList();
        if (!extra.isEmpty()) {
            issues.add(new Issue(IssueType.EXTRA_CHUNKS, meta.fileId(), meta.name(), chunkDetails(extra, meta)));
        }
        if (stale && !present.isEmpty()) {
            issues.add(new Issue(
                    IssueType.STALE_VECTORS,
                    meta.fileId(),
                    meta.name(),
                    new JsonObject()
                            .put("contentSha256", meta.sha256())
                            .put("model", meta.model())
                            .put("currentModel", currentModel)));
        }
    }

    private static JsonObject chunkDetails(List<Integer> chunks, Meta meta) {
        return new JsonObject()
                .put("expected", meta.chunks())
                .put("count", chunks.size())
                .put("chunks", new JsonArray(chunks.subList(0, Math.min(LISTED_CHUNKS, chunks.size()))));
    }

    private static Verdict verdict(Meta meta, List<Issue> issues) {
        return Verdict.of(
                issues.stream().map(Issue::type).toList(),
                meta != null && (meta.attention() != null || meta.unreadable() != null),
                meta == null);
    }
}
