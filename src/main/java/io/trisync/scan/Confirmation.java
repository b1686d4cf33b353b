package io.trisync.scan;

import io.trisync.concurrent.Lanes;
import io.trisync.failure.Failure;
import io.trisync.store.BlobInfo;
import io.trisync.store.ChunkPoint;
import io.trisync.store.FileRecord;
import io.trisync.store.StoreKeys;
import io.trisync.store.Stores;
import io.vertx.core.Future;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * Confirms the issues the listings of one (tenant, partition) suggest before a scan reports them,
 * as a careful reconciler does. The three listings are read at different moments, so an upload,
 * delete or new version running meanwhile shows in them half done (a blob without its record, a
 * tombstone beside its blob, a record naming the old content). Each file the engine found an issue
 * with (a candidate) is looked at again alone: its record, a HEAD of its blob (in a deep scan its
 * bytes hashed), its points; then the partition's ingest operations are read once. A candidate
 * with an unfinished operation, or one whose operation ended after the fresh look began, is in
 * flight: not judged now (its operation finishes or undoes it; the next scan judges it). Any other
 * candidate is judged by its fresh look, so an upload that completed between the listings and the
 * verdict is reported whole. Healthy files cost nothing more; a partition with candidates costs one
 * look per candidate (up to {@link #ONE_BY_ONE} of them; with more, as when a store lost a whole
 * partition, the partition's listings are read again instead, so the scan's cost stays at most
 * twice its listings) and two queries of the operation log.
 */
final class Confirmation {

    /** Candidates looked at once; one at a time when their bytes are hashed (each is held whole meanwhile). */
    private static final int LOOKS = 16;

    /** Above this many candidates a full or deep scan reads the partition's listings again instead. */
    static final int ONE_BY_ONE = 64;

    /** A partition's files as judged ({@code files}), and those left unjudged, as listed ({@code inFlight}). */
    record Judged(List<FileReport> files, List<FileReport> inFlight) {}

    private final Stores stores;
    private final Reconciler reconciler;
    private final PartitionReader reader;

    Confirmation(Stores stores, Reconciler reconciler, PartitionReader reader) {
        this.stores = stores;
        this.reconciler = reconciler;
        this.reader = reader;
    }

    /**
     * Confirms the candidates among {@code listed} (the engine's reports on the partition's listings
     * in scan mode {@code mode}): a deep scan or a quick check hashes an active candidate's bytes, a
     * full scan reads its sha256 metadata when its ETag differs from the recorded one.
     */
    Future<Judged> confirm(String tenant, int partition, List<FileReport> listed, String mode) {
        return confirm(tenant, partition, new KnownIssues.Settled(listed, Set.of()), mode, Set.of(), KnownContent.NONE);
    }

    /**
     * {@link #confirm(String, int, List, String)}, with the files of {@code rehash} (those with an
     * open issue only their bytes show, in a scan that does not read bytes) looked at again with
     * their bytes hashed, whatever the listings say of them: an issue the listings cannot see is
     * judged by a look that can. The others take the sha256 of an object {@code known} names as it is
     * now from there, as the listings did. The files {@code settled} names (their open issues listed
     * again unchanged, {@link KnownIssues}) are taken as listed.
     */
    Future<Judged> confirm(
            String tenant,
            int partition,
            KnownIssues.Settled settled,
            String mode,
            Set<String> rehash,
            KnownContent known) {
        List<FileReport> listed = settled.files();
        List<String> candidates = listed.stream()
                .filter(f -> !f.issues().isEmpty()
                        && !rehash.contains(f.fileId())
                        && !settled.ids().contains(f.fileId()))
                .map(FileReport::fileId)
                .toList();
        List<String> hashed =
                listed.stream().map(FileReport::fileId).filter(rehash::contains).toList();
        if (candidates.isEmpty() && hashed.isEmpty()) {
            return Future.succeededFuture(new Judged(listed, List.of()));
        }
        Instant since = Instant.now();
        boolean quick = "quick".equals(mode);
        Future<Map<String, FileReport>> looked = candidates.size() > ONE_BY_ONE && !quick
                ? reread(tenant, partition, "deep".equals(mode), Set.copyOf(candidates), known)
                : look(tenant, partition, candidates, !"full".equals(mode), known);
        Set<String> confirmed = new HashSet<>(hashed);
        return looked.compose(fresh -> (hashed.isEmpty()
                        ? Future.succeededFuture(fresh)
                        : look(tenant, partition, hashed, true, known).map(more -> {
                            Map<String, FileReport> all = new HashMap<>(fresh);
                            all.putAll(more);
                            return all;
                        }))
                .compose(all -> stores.operations()
                        .filesInFlight(tenant, partition, since)
                        .map(inFlight -> judged(listed, all, inFlight, confirmed, settled.ids())))
                .compose(judged -> lostRecords(tenant, partition, judged, "deep".equals(mode), settled.ids())));
    }

    /**
     * The judged files with each {@code ORPHAN_BLOB} told whether its record can be rebuilt from its
     * committed upload ({@link LostRecord}, in the issue's details): a HEAD of the object (its size and
     * sha256 metadata) and the file's operations, per orphan object; a deep scan hashes the bytes of
     * one its upload could restore, as the repair will. Healthy partitions cost nothing, and so do
     * {@code settled} orphans (their issue's details hold what an earlier scan found).
     */
    private Future<Judged> lostRecords(String tenant, int partition, Judged judged, boolean deep, Set<String> settled) {
        List<String> orphans = judged.files().stream()
                .filter(f -> !settled.contains(f.fileId())
                        && f.issues().stream().anyMatch(i -> i.type() == IssueType.ORPHAN_BLOB))
                .map(FileReport::fileId)
                .toList();
        if (orphans.isEmpty()) {
            return Future.succeededFuture(judged);
        }
        Map<String, LostRecord> found = new HashMap<>();
        return Lanes.forEach(orphans, LOOKS, id -> lostRecord(tenant, partition, id, deep)
                        .map(lost -> lost == null ? null : found.put(id, lost)))
                .map(v -> new Judged(
                        judged.files().stream()
                                .map(f -> found.containsKey(f.fileId()) ? withRestore(f, found.get(f.fileId())) : f)
                                .toList(),
                        judged.inFlight()));
    }

    /** Whether orphan object {@code fileId}'s record can be rebuilt; null when the object went meanwhile. */
    private Future<LostRecord> lostRecord(String tenant, int partition, String fileId, boolean deep) {
        String key = StoreKeys.blobKey(tenant, partition, fileId);
        return absentIfNotFound(stores.blobs().head(key))
                .compose(info -> info == null
                        ? Future.succeededFuture()
                        : stores.operations().ofFile(fileId).compose(ops -> {
                            LostRecord lost = LostRecord.judge(tenant, fileId, ops, info.size(), info.sha256());
                            return !deep || !lost.restorable()
                                    ? Future.succeededFuture(lost)
                                    : absentIfNotFound(stores.blobs().hash(key))
                                            .map(hashed -> hashed == null
                                                    ? null
                                                    : LostRecord.judge(
                                                            tenant, fileId, ops, hashed.size(), hashed.sha256()));
                        }));
    }

    private static FileReport withRestore(FileReport file, LostRecord lost) {
        List<FileReport.Issue> issues = file.issues().stream()
                .map(i -> i.type() == IssueType.ORPHAN_BLOB
                        ? new FileReport.Issue(
                                i.type(),
                                i.fileId(),
                                i.fileName(),
                                i.details().copy().put(LostRecord.FIELD, lost.toJson()))
                        : i)
                .toList();
        return file.withIssues(issues);
    }

    /**
     * {@code confirmed}: files looked at again whatever their listing showed; {@code settled}: files
     * taken as listed, their open issues unchanged (an operation writing one now would leave them
     * open as well).
     */
    private static Judged judged(
            List<FileReport> listed,
            Map<String, FileReport> fresh,
            Set<String> inFlight,
            Set<String> confirmed,
            Set<String> settled) {
        List<FileReport> files = new ArrayList<>(listed.size());
        List<FileReport> unjudged = new ArrayList<>();
        for (FileReport file : listed) {
            if ((file.issues().isEmpty() || settled.contains(file.fileId())) && !confirmed.contains(file.fileId())) {
                files.add(file);
            } else if (inFlight.contains(file.fileId())) {
                unjudged.add(file);
            } else if (fresh.containsKey(file.fileId())) {
                // Absent when no store holds the file any more: nothing to report.
                files.add(fresh.get(file.fileId()));
            }
        }
        return new Judged(files, unjudged);
    }

    /** The candidates' reports from the partition's listings read again. */
    private Future<Map<String, FileReport>> reread(
            String tenant, int partition, boolean deep, Set<String> ids, KnownContent known) {
        return reader.read(tenant, partition, deep, known).map(read -> {
            Map<String, FileReport> out = new HashMap<>();
            reconciler.reconcile(read.listings(), PartitionVerticle.targetModel(stores)).stream()
                    .filter(r -> ids.contains(r.fileId()))
                    .forEach(r -> out.put(r.fileId(), r));
            return out;
        });
    }

    /** The engine's report on each candidate as the stores hold it now (none for a file no store holds). */
    private Future<Map<String, FileReport>> look(
            String tenant, int partition, List<String> ids, boolean rehash, KnownContent known) {
        Future<Set<String>> queued = stores.indexQueue().filesIn(tenant, partition);
        Future<List<FileRecord>> records = stores.metadata().getAll(ids);
        return Future.all(queued, records).compose(v -> {
            Map<String, FileRecord> byId = new HashMap<>();
            records.result().stream().filter(r -> r.of(tenant)).forEach(r -> byId.put(r.id(), r));
            Set<String> elsewhere = new HashSet<>();
            List<Listings.Meta> metas = new ArrayList<>();
            byId.values().forEach(r -> {
                if (recordedElsewhere(r, partition)) {
                    elsewhere.add(r.id());
                } else {
                    metas.add(PartitionReader.meta(r, queued.result()));
                }
            });
            List<Listings.Blob> blobs = new ArrayList<>();
            List<Listings.Point> points = new ArrayList<>();
            // Only an active file's bytes are hashed (as they stream), one file at a time;
            // the others (orphans, tombstones) are looked at as many at once as without hashing.
            List<String> hashed = ids.stream()
                    .filter(id -> rehash && byId.containsKey(id) && byId.get(id).status() == FileRecord.Status.ACTIVE)
                    .toList();
            Set<String> hashing = new HashSet<>(hashed);
            List<String> others =
                    ids.stream().filter(id -> !hashing.contains(id)).toList();
            Function<String, Future<?>> lookAt = id -> blobOf(tenant, partition, byId.get(id), id, rehash, known)
                    .map(b -> b == null ? null : blobs.add(b))
                    .compose(x -> stores.vectors().pointsOf(tenant, id))
                    .map(found -> points.addAll(
                            found.stream().map(Confirmation::listed).toList()));
            return Lanes.forEach(others, LOOKS, lookAt)
                    .compose(looked -> Lanes.forEach(hashed, 1, lookAt))
                    .map(done -> {
                        Map<String, FileReport> out = new HashMap<>();
                        reconciler
                                .reconcile(
                                        new Listings.Partition(metas, blobs, points),
                                        PartitionVerticle.targetModel(stores))
                                .forEach(r -> out.put(r.fileId(), r));
                        out.keySet().removeAll(elsewhere);
                        return out;
                    });
        });
    }

    /**
     * Whether {@code record}, looked up by the id of a blob or points under {@code partition}'s keys,
     * names another partition its id does not fall in (a hand edit): the scan of that partition lists
     * it and reports it as unreadable, so here it is not reported again, and what is under this
     * partition's keys is its, not an orphan, so neither is that.
     */
    private static boolean recordedElsewhere(FileRecord record, int partition) {
        // Whatever field it was first found unreadable by: a record whose partition is also moved is
        // listed there all the same.
        return record.partition() >= 0 && record.partition() != partition;
    }

    private static Listings.Point listed(ChunkPoint p) {
        return new Listings.Point(p.fileId(), p.chunk(), p.contentSha256(), p.model());
    }

    /**
     * The file's object as a listing would give it, or null when there is none: its sha256 as the
     * scan's mode reads it (see {@link PartitionReader}); only an active file's content is compared.
     * The version is the HEAD's, read before the bytes: an object written in between is read again
     * by the next scan.
     */
    private Future<Listings.Blob> blobOf(
            String tenant, int partition, FileRecord record, String id, boolean rehash, KnownContent known) {
        String key = StoreKeys.blobKey(tenant, partition, id);
        Future<BlobInfo> head = stores.blobs().head(key);
        boolean active = record != null && record.status() == FileRecord.Status.ACTIVE;
        return absentIfNotFound(head.compose(info -> {
            Listings.Version version = PartitionReader.version(info);
            if (rehash && active) {
                return stores.blobs()
                        .hash(key)
                        .map(hashed -> new Listings.Blob(id, hashed.size(), hashed.sha256(), version));
            }
            String knownSha = active ? known.sha256(id, version) : null;
            String recordedEtag = record == null || record.blobEtag() == null ? "" : record.blobEtag();
            String sha = knownSha != null
                    ? knownSha
                    : active && !PartitionReader.sameEtag(recordedEtag, info.etag()) ? info.sha256() : null;
            return Future.succeededFuture(new Listings.Blob(id, info.size(), sha, version));
        }));
    }

    private static <T> Future<T> absentIfNotFound(Future<T> read) {
        return read.recover(e -> e instanceof Failure.NotFound ? Future.succeededFuture() : Future.failedFuture(e));
    }
}
