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
 * since the scan that found its issues.
 */
public final class FileInspector {

    /** One file's current state: each part null (or empty) when its store lacks it. */
    public record State(
            String tenantId,
            int partition,
            String fileId,
            FileRecord record,
            BlobInfo blob,
            List<ChunkPoint> points,
            FileReport report) {

        /** The issue types the file has now. */
        public Set<IssueType> issues() {
            return report.issues().stream().map(FileReport.Issue::type).collect(Collectors.toSet());
        }

        public String blobKey() {
            return StoreKeys.blobKey(tenantId, partition, fileId);
        }
    }

    private final Stores stores;
    private final Reconciler reconciler;

    /** {@code model}: the model files are embedded with now (another one's vectors are stale). */
    public FileInspector(Stores stores, String model) {
        this.stores = stores;
        this.reconciler = new Reconciler(model);
    }

    public Future<State> inspect(String tenantId, int partition, String fileId) {
        Future<FileRecord> record = stores.metadata()
                .get(fileId)
                .map(r -> r.tenantId().equals(tenantId) ? r : null)
                .recover(FileInspector::absent);
        Future<BlobInfo> blob = stores.blobs()
                .head(StoreKeys.blobKey(tenantId, partition, fileId))
                .recover(FileInspector::absent);
        Future<List<ChunkPoint>> points = stores.vectors().pointsOf(tenantId, fileId);
        Future<Set<String>> queued = stores.indexQueue().filesIn(tenantId, partition);
        return Future.all(record, blob, points, queued).map(v -> {
            List<Listings.Meta> metas = new ArrayList<>();
            if (record.result() != null) {
                metas.add(PartitionReader.meta(record.result(), queued.result()));
            }
            List<Listings.Blob> blobs = new ArrayList<>();
            if (blob.result() != null) {
                blobs.add(new Listings.Blob(
                        fileId, blob.result().size(), blob.result().sha256()));
            }
            List<Listings.Point> listed = points.result().stream()
                    .map(p -> new Listings.Point(p.fileId(), p.chunk(), p.contentSha256(), p.model()))
                    .toList();
            List<FileReport> reports = reconciler.reconcile(
                    new Listings.Partition(metas, blobs, listed), PartitionVerticle.retiringModel(stores));
            FileReport report = reports.isEmpty()
                    ? new FileReport(fileId, null, Verdict.SYNCED, false, false, false, false, List.of())
                    : reports.get(0);
            return new State(tenantId, partition, fileId, record.result(), blob.result(), points.result(), report);
        });
    }

    private static <T> Future<T> absent(Throwable error) {
        return error instanceof Failure.NotFound ? Future.succeededFuture() : Future.failedFuture(error);
    }
}
