package io.trisync.repair;

import io.trisync.concurrent.MemoryBudget;
import io.trisync.embedding.ContentIndexer;
import io.trisync.failure.Failure;
import io.trisync.repair.Outcomes.Outcome;
import io.trisync.scan.FileInspector.State;
import io.trisync.scan.LostRecord;
import io.trisync.store.BlobInfo;
import io.trisync.store.BlobStore;
import io.trisync.store.Buffers;
import io.trisync.store.FileRecord;
import io.trisync.store.IngestOperation;
import io.trisync.store.Stores;
import io.vertx.core.Future;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.function.BooleanSupplier;

/**
 * Rebuilds the lost record of an orphan object from the file's committed upload ({@link
 * LostRecord}): the record an upload writes, from what the operation log kept of it (name, content
 * type, size, sha256, partition), with the object's ETag and the embedding its content gives (its
 * text extracted and chunked as the upload did, by the model in use). Judged again from the log as
 * it is now, and only when the object's bytes hash to the upload's sha256 and size. The write is an
 * insert that fails when any record of the file exists (a delete through the API marks the record
 * {@code deleted}, it does not remove it), after the tenant's erasure check; so a file deleted, or a
 * tenant erased, meanwhile is never brought back.
 */
final class RecordRestores {

    private final Stores stores;
    private final ContentIndexer indexer;
    private final WorkerExecutor embeddingPool;

    RecordRestores(Stores stores, ContentIndexer indexer, WorkerExecutor embeddingPool) {
        this.stores = stores;
        this.indexer = indexer;
        this.embeddingPool = embeddingPool;
    }

    /**
     * The file's record restored from its upload, or why not (a failed outcome; nothing written). Once
     * {@code ended} says the repair was ended (cancelled, by an erasure of the tenant too), nothing is
     * written.
     */
    Future<Outcome> restore(PlannedAction action, State state, JsonObject before, BooleanSupplier ended) {
        if (state.record() != null) {
            return Outcomes.failed(
                    action,
                    before,
                    "a record of the file exists (" + state.record().status().wire()
                            + "); nothing is restored over it");
        }
        BlobInfo blob = state.blob();
        if (blob == null) {
            return Outcomes.failed(action, before, "the object is gone; no record is rebuilt without content");
        }
        return stores.operations().ofFile(action.fileId()).compose(ops -> {
            LostRecord lost = LostRecord.judge(action.tenantId(), action.fileId(), ops, blob.size(), blob.sha256());
            if (!lost.restorable()) {
                return Outcomes.failed(action, before, lost.refused());
            }
            IngestOperation upload = ops.stream()
                    .filter(op -> op.id().equals(lost.operation()))
                    .findFirst()
                    .orElseThrow();
            return MemoryBudget.HEAP.holding(blob.size(), () -> fromContent(action, state, before, upload, ended));
        });
    }

    /** The record of {@code upload}'s file, once the object's bytes are shown to be the upload's. */
    private Future<Outcome> fromContent(
            PlannedAction action, State state, JsonObject before, IngestOperation upload, BooleanSupplier ended) {
        ContentIndexer.Target target = new ContentIndexer.Target(
                upload.tenantId(),
                upload.fileId(),
                upload.partition(),
                upload.sha256(),
                upload.contentType(),
                upload.name());
        return stores.blobs().read(state.blobKey()).compose(content -> embeddingPool
                .executeBlocking(() -> Checked.of(content, indexer, target, upload.size()), false)
                .compose(checked -> {
                    if (checked.prepared() == null) {
                        return Outcomes.failed(
                                action,
                                before,
                                "the object's bytes (" + checked.size() + " bytes, sha256 " + checked.sha256()
                                        + ") are not the content its upload (operation " + upload.id()
                                        + ") committed; nothing restored");
                    }
                    if (ended.getAsBoolean()) {
                        return Outcomes.failed(action, before, "the repair was ended; nothing restored");
                    }
                    FileRecord record = record(upload, content.info().etag(), checked.prepared());
                    // The erasure's refusal is its own (tenant_erasing); only the insert's conflict
                    // says a record was written meanwhile.
                    return stores.erasures().admitting(upload.tenantId()).compose(v -> stores.metadata()
                            .insert(record)
                            .map(done -> Outcomes.done(action, before, after(record, upload)))
                            .recover(error -> error instanceof Failure.Conflict
                                    ? Outcomes.failed(
                                            action,
                                            before,
                                            "a record of the file was written meanwhile (a delete, an"
                                                    + " upload): nothing restored over it")
                                    : Future.failedFuture(error)));
                }));
    }

    /** The record {@code upload} committed, as far as it can be known now (its later edits cannot). */
    private FileRecord record(IngestOperation upload, String etag, ContentIndexer.Prepared prepared) {
        Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        Instant created = upload.createdAt() == null ? now : upload.createdAt().truncatedTo(ChronoUnit.MILLIS);
        return new FileRecord(
                upload.fileId(),
                upload.tenantId(),
                upload.name(),
                upload.contentType(),
                upload.size(),
                upload.sha256(),
                FileRecord.Status.ACTIVE,
                1,
                upload.partition(),
                new FileRecord.Embedding(
                        indexer.modelName(),
                        indexer.dimension(),
                        prepared.chunks().size(),
                        upload.sha256(),
                        prepared.failure()),
                created,
                now,
                null,
                etag);
    }

    private static JsonObject after(FileRecord record, IngestOperation upload) {
        return new JsonObject()
                .put(
                        "record",
                        new JsonObject()
                                .put("status", record.status().wire())
                                .put("name", record.name())
                                .put("content_type", record.contentType())
                                .put("size", record.size())
                                .put("sha256", record.sha256())
                                .put("chunks", record.embedding().chunks())
                                .put("embedding", record.embedding().state()))
                .put("from_operation", upload.id());
    }

    /**
     * The object's bytes as read: their size, sha256 and the text chunks they give ({@code prepared},
     * null when they are not the upload's: nothing is extracted from bytes that will not be restored).
     */
    private record Checked(long size, String sha256, ContentIndexer.Prepared prepared) {

        /** Hashes, then extracts, on a worker (blocking): the content may be large. */
        static Checked of(BlobStore.Content content, ContentIndexer indexer, ContentIndexer.Target target, long size) {
            String sha = Buffers.sha256Hex(content.bytes());
            long read = content.bytes().length();
            if (!sha.equals(target.sha256()) || read != size) {
                return new Checked(read, sha, null);
            }
            return new Checked(read, sha, indexer.prepare(Buffers.view(content.bytes()), target));
        }
    }
}
