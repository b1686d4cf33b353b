package io.trisync.scan;

import io.trisync.failure.Failure;
import io.trisync.store.BlobInfo;
import io.trisync.store.ChunkPoint;
import io.trisync.store.FileRecord;
import io.trisync.store.StoreKeys;
import io.trisync.store.Stores;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * What the three stores hold for one file right now, and the engine's verdict on it: the
 * re-verification a repair does just before acting on a file, since the world may have changed
 * since the scan that found its issues, and again after. Like a full scan it HEADs the object and
 * takes its {@code sha256} metadata; asked to read the content it hashes the bytes, as a deep scan
 * does, and only then can it tell an issue that {@linkplain IssueType#needsContent() needs the
 * content} gone.
 */
public final class FileInspector {

    /**
     * One file's current state: each part null (or empty) when its store lacks it. {@code contentRead}:
     * the report judged the object by the sha256 of its bytes (or there was no object to read).
     */
    public record State(
            String tenantId,
            int partition,
            String fileId,
            FileRecord record,
            BlobInfo blob,
            List<ChunkPoint> points,
            FileReport report,
            boolean contentRead) {

        /** The issue types the file has now. */
        public Set<IssueType> issues() {
            return report.issues().stream().map(FileReport.Issue::type).collect(Collectors.toSet());
        }

        /** Whether this state can show {@code type} absent: it needs no content, or the content was read. */
        public boolean sees(IssueType type) {
            return contentRead || !type.needsContent();
        }

        public String blobKey() {
            return StoreKeys.blobKey(tenantId, partition, fileId);
        }
    }

    private final Stores stores;
    private final Reconciler reconciler;

    /**
     * {@code model}: the model files are embedded with now (another one's vectors are stale). Content
     * read is hashed as it streams ({@link io.trisync.store.BlobStore#hash}).
     */
    public FileInspector(Stores stores, String model) {
        this.stores = stores;
        this.reconciler = new Reconciler(model);
    }

    /**
     * The file's state from its record, a HEAD of its object and its points; with {@code readContent}
     * the object's bytes are read and hashed too, and the file judged by their size and sha256 (as a
     * deep scan judges it). Fails only when a store does.
     */
    public Future<State> inspect(String tenantId, int partition, String fileId, boolean readContent) {
        String key = StoreKeys.blobKey(tenantId, partition, fileId);
        Future<FileRecord> record = stores.metadata()
                .get(fileId)
                .map(r -> r.of(tenantId) ? r : null)
                .recover(FileInspector::absent);
        Future<BlobInfo> head = stores.blobs().head(key).recover(FileInspector::absent);
        Future<Listings.Blob> blob = head.compose(info -> info == null
                ? Future.succeededFuture()
                : readContent
                        ? hashed(key, fileId)
                        : Future.succeededFuture(new Listings.Blob(fileId, info.size(), info.sha256())));
        Future<List<ChunkPoint>> points = stores.vectors().pointsOf(tenantId, fileId);
        Future<Set<String>> queued = stores.indexQueue().filesIn(tenantId, partition);
        return Future.all(record, blob, points, queued).map(v -> {
            List<Listings.Meta> metas = new ArrayList<>();
            if (record.result() != null) {
                metas.add(PartitionReader.meta(record.result(), queued.result()));
            }
            List<Listings.Blob> blobs = new ArrayList<>();
            if (blob.result() != null) {
                blobs.add(blob.result());
            }
            List<Listings.Point> listed = points.result().stream()
                    .map(p -> new Listings.Point(p.fileId(), p.chunk(), p.contentSha256(), p.model()))
                    .toList();
            List<FileReport> reports = reconciler.reconcile(
                    new Listings.Partition(metas, blobs, listed), PartitionVerticle.targetModel(stores));
            FileReport report = reports.isEmpty()
                    ? new FileReport(fileId, null, Verdict.SYNCED, false, false, false, false, List.of())
                    : reports.get(0);
            BlobInfo info = blob.result() == null ? null : head.result();
            return new State(
                    tenantId,
                    partition,
                    fileId,
                    record.result(),
                    info,
                    points.result(),
                    report,
                    readContent || info == null);
        });
    }

    /** The object's size and sha256 from its bytes; null when it went between the HEAD and the read. */
    private Future<Listings.Blob> hashed(String key, String fileId) {
        return stores.blobs()
                .hash(key)
                .map(hashed -> new Listings.Blob(fileId, hashed.size(), hashed.sha256()))
                .recover(FileInspector::absent);
    }

    private static <T> Future<T> absent(Throwable error) {
        return error instanceof Failure.NotFound ? Future.succeededFuture() : Future.failedFuture(error);
    }
}
