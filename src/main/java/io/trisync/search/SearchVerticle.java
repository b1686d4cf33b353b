package io.trisync.search;

import io.trisync.bus.RequestVerticle;
import io.trisync.config.TrisyncConfig;
import io.trisync.embedding.EmbeddingModel;
import io.trisync.embedding.EmbeddingPool;
import io.trisync.embedding.QueryModel;
import io.trisync.events.EventPublisher;
import io.trisync.events.EventTypes;
import io.trisync.failure.Failure;
import io.trisync.metrics.Metrics;
import io.trisync.scan.DeleteLeftovers;
import io.trisync.scan.IssueType;
import io.trisync.search.SearchMessages.SearchRequest;
import io.trisync.store.BlobInfo;
import io.trisync.store.ChunkPoint;
import io.trisync.store.FileFields;
import io.trisync.store.FileRecord;
import io.trisync.store.StoreKeys;
import io.trisync.store.Stores;
import io.trisync.store.VectorSpaces;
import io.trisync.store.VectorStore.Scored;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Semantic search that returns only what the three stores agree on. The query is embedded with the
 * model in use; the tenant's nearest points are fetched (several times the page, more if hits are
 * excluded and there may be others), reduced to each file's best chunk, and every candidate file is
 * checked before it is returned: its record exists, is active and the tenant's, the point was made
 * from the record's content ({@code content_sha256}) by the model in use, and its blob still has the
 * ETag recorded at ingest. A candidate that fails is left out, counted in {@code excluded}, and
 * recorded as the issue it is ({@code ORPHAN_VECTORS}, {@code DELETE_INCOMPLETE}, {@code
 * STALE_VECTORS}; for a blob that is not the one recorded, {@code MISSING_BLOB}, {@code SIZE_MISMATCH}
 * or {@code CHECKSUM_MISMATCH}, never {@code STALE_VECTORS}) in the scanner's issue store with its {@code sync.issue_detected} event, once per
 * appearance: read repair's detection, as Cassandra does on reads; repairs fix them. While the
 * embedding model changes side by side, both collections are searched, each with the query embedded
 * by its own model, and their rankings interleaved (see {@link #round}).
 */
public final class SearchVerticle extends RequestVerticle {

    private static final Logger LOG = LoggerFactory.getLogger(SearchVerticle.class);

    /** Candidates fetched per result wanted, and the most ever fetched for one search. */
    private static final int OVERFETCH = 4;

    private static final int MAX_CANDIDATES = 2000;

    private final Stores stores;
    private final EmbeddingModel model;
    private final TrisyncConfig config;
    private EventPublisher events;
    private Metrics metrics;
    private VerifiedBlobs verified;
    private WorkerExecutor embeddingPool;
    private QueryModel queries;
    private ReadRepair readRepair;

    public SearchVerticle(TrisyncConfig config, Stores stores, EmbeddingModel model) {
        this.config = config;
        this.stores = stores;
        this.model = model;
    }

    @Override
    public Future<?> start() {
        events = EventPublisher.of(vertx, config, stores);
        metrics = Metrics.of(config);
        readRepair = new ReadRepair(vertx, stores, events);
        verified = new VerifiedBlobs(config.search().blobRecheckSeconds() * 1000L, 100_000);
        embeddingPool = EmbeddingPool.of(vertx);
        queries = new QueryModel(vertx, config.embedding(), model);
        consume(SearchAddresses.QUERY, body -> search(SearchRequest.fromJson(body)));
        return consumersReady();
    }

    /**
     * The query's vector, or a 503 naming the embedding model once the search's time is nearly spent
     * (its request would otherwise time out with a message that names no cause). An embedding already
     * running cannot be stopped and ends on its own, its answer unused; one still waiting for a
     * thread when its search gave up is skipped, so abandoned queries do not hold up later ones.
     */
    private Future<float[]> embedQuery(EmbeddingModel by, String query, long budgetMs) {
        Promise<float[]> vector = Promise.promise();
        long timer = vertx.setTimer(
                budgetMs,
                id -> vector.tryFail(new Failure.Unavailable(
                        "embedding",
                        "the query was not embedded within " + budgetMs / 1000 + " s by " + by.name()
                                + " (the embedding service is slow or busy); try again later",
                        null)));
        embeddingPool
                .executeBlocking(
                        () -> vector.future().isComplete()
                                ? null
                                : by.embed(List.of(query)).get(0),
                        false)
                .onComplete(
                        done -> {
                            vertx.cancelTimer(timer);
                            if (done != null) {
                                vector.tryComplete(done);
                            }
                        },
                        failed -> {
                            vertx.cancelTimer(timer);
                            vector.tryFail(failed);
                        });
        return vector.future();
    }

    /** What of the search's request time is left for reading the stores once the query is embedded. */
    private static final long EMBED_MARGIN_MS = 5_000;

    @Override
    public Future<?> stop() {
        return super.stop().eventually(() -> embeddingPool.close());
    }

    private Future<JsonObject> search(SearchRequest request) {
        long started = System.nanoTime();
        long budgetMs = Math.max(1_000, config.sync().requestTimeoutSeconds() * 1000L - EMBED_MARGIN_MS);
        // One view of the collections for the whole search: the query is embedded by the model of the
        // collection it searches, and hits are judged against that model, even if a switch lands meanwhile.
        VectorSpaces spaces = stores.vectors().spaces();
        if (spaces == null) {
            return embedQuery(model, request.query(), budgetMs)
                    .compose(
                            vector -> searchWith(request, started, List.of(new Side(null, model, vector, null)), null));
        }
        VectorSpaces.Space serving = spaces.serving();
        if (!spaces.migrating() || spaces.target().model().equals(serving.model())) {
            // A node configured side by side whose own model serves no more (a node left on an old
            // model) embeds the query with the serving model.
            boolean servingModel =
                    config.embedding().sideBySide() && !serving.model().equals(model.name());
            return side(servingModel ? serving : null, serving, null, request.query(), budgetMs)
                    .compose(side -> searchWith(request, started, List.of(side), null));
        }
        // While the model changes, both collections are searched, each with a query embedded by its own
        // model: the serving one holds every file made before the change, the one being filled the files
        // re-embedded so far and those uploaded or changed since (whose old points are gone).
        VectorSpaces.Space target = spaces.target();
        Future<Side> old = side(serving, serving, target.model(), request.query(), budgetMs);
        Future<Side> renewed = side(target, target, null, request.query(), budgetMs);
        return Future.join(old, renewed)
                .<Sides>transform(both -> {
                    if (old.succeeded() && renewed.succeeded()) {
                        return Future.succeededFuture(new Sides(List.of(old.result(), renewed.result()), null));
                    }
                    Future<Side> failed = old.failed() ? old : renewed;
                    Future<Side> other = old.failed() ? renewed : old;
                    if (other.failed() || !(failed.cause() instanceof Failure.Unavailable)) {
                        return Future.failedFuture(failed.cause());
                    }
                    // One model cannot embed the query (its service gone, its key refused, too slow): the
                    // other collection alone rather than no answer, and the answer says what is left out.
                    // The cause is logged, not answered (it may name the provider's address).
                    VectorSpaces.Space lost = old.failed() ? serving : target;
                    LOG.warn(
                            "Search of {} searches collection {} only: the model {} of collection {} did not embed"
                                    + " the query: {}",
                            request.tenantId(),
                            (old.failed() ? target : serving).collection(),
                            lost.model(),
                            lost.collection(),
                            failed.cause().getMessage());
                    String partial = old.failed()
                            ? "the serving collection's model " + serving.model()
                                    + " could not embed the query; searched the collection being filled for "
                                    + target.model() + ", which holds only the files re-embedded so far"
                            : "the model " + target.model() + " of the collection being filled could not embed"
                                    + " the query; files uploaded or changed since the change of model began are"
                                    + " left out";
                    return Future.succeededFuture(new Sides(List.of(other.result()), partial));
                })
                .compose(sides -> searchWith(request, started, sides.sides(), sides.partial()));
    }

    /**
     * One collection's side of a search: the query embedded by {@code space}'s model (by this node's
     * own model when {@code space} is null or names it), compared with {@code searched}'s vectors.
     */
    private Future<Side> side(
            VectorSpaces.Space space, VectorSpaces.Space searched, String renewed, String query, long budgetMs) {
        return Future.<EmbeddingModel>future(p -> p.complete(queries.forSpace(space)))
                .compose(by -> embedQuery(by, query, budgetMs).map(v -> new Side(searched, by, v, renewed)));
    }

    /**
     * A query's vector and the collection it is compared with ({@code searched}, null when there is
     * no pointer), the model that made both, and the model a file re-embedded during a change of
     * model records (or null): its record may name that model while this collection still holds the
     * old model's copy of its points.
     */
    private record Side(VectorSpaces.Space searched, EmbeddingModel by, float[] vector, String renewed) {}

    /** The sides a search compares, and why it is partial (or null). */
    private record Sides(List<Side> sides, String partial) {}

    /** A hit and the side it came from, which says what model its file's record may name. */
    private record Candidate(Scored hit, Side side) {
        String fileId() {
            return hit.point().fileId();
        }
    }

    private Future<JsonObject> searchWith(SearchRequest request, long started, List<Side> sides, String partial) {
        long embedded = System.nanoTime();
        int k = Math.min(MAX_CANDIDATES, Math.max(40, request.limit() * OVERFETCH));
        return round(request, sides, k)
                .compose(found -> excludedEvent(request, found).map(v -> {
                    JsonObject answer = found.answer(started, embedded);
                    String why = partial != null ? partial : found.unsearched;
                    return why == null ? answer : answer.put("partial", why);
                }));
    }

    /** What a search found: the consistent hits in score order and the excluded ones. */
    private static final class Found {
        /** Files with an agreeing hit: a file found in both collections during a change is returned once. */
        final Set<String> taken = new HashSet<>();

        /** During a change of model, why one collection's hits are missing (its search failed), or null. */
        String unsearched;

        final List<SearchMessages.SearchHit> results = new ArrayList<>();
        final List<Excluded> excluded = new ArrayList<>();
        long searchedAt;
        long checkedAt;
        /** Nanos spent reading the candidates' records and checking their blobs, over every round. */
        long recordsNanos;

        long blobsNanos;
        /** Blobs HEADed (the others were verified recently or have no recorded ETag). */
        int blobsHeaded;

        JsonObject answer(long started, long embedded) {
            long done = System.nanoTime();
            return new SearchMessages.SearchReply(
                            results,
                            excluded.size(),
                            (done - started) / 1_000_000,
                            new SearchMessages.SearchTimings(
                                    ms(embedded - started),
                                    ms(searchedAt - embedded),
                                    ms(checkedAt - searchedAt),
                                    ms(recordsNanos),
                                    ms(blobsNanos)),
                            blobsHeaded)
                    .toJson();
        }

        private static double ms(long nanos) {
            return Math.round(Math.max(0, nanos) / 10_000.0) / 100.0;
        }
    }

    /**
     * One fetch of {@code k} candidates from each side; fetches four times more while too few
     * consistent files were found among a full page. The sides' rankings (each file at its best chunk)
     * are interleaved rank by rank, the serving collection first: scores of two models are not
     * comparable, ranks are, and a file both hold is taken at its better rank.
     */
    private Future<Found> round(SearchRequest request, List<Side> sides, int k) {
        Found found = new Found();
        List<Future<List<Scored>>> searches = new ArrayList<>();
        for (Side side : sides) {
            searches.add(stores.vectors().search(side.searched(), request.tenantId(), side.vector(), k));
        }
        return Future.join(searches)
                .transform(joined -> {
                    if (joined.succeeded() || sides.size() < 2) {
                        return Future.succeededFuture(joined.result());
                    }
                    // During a change, one collection that cannot be searched (being made or dropped, a
                    // request that failed) leaves the other's hits, and the answer says which are missing.
                    int ok = searches.get(0).succeeded() ? 0 : searches.get(1).succeeded() ? 1 : -1;
                    if (ok < 0) {
                        return Future.failedFuture(joined.cause());
                    }
                    Side lost = sides.get(1 - ok);
                    LOG.warn(
                            "Search of {} left collection {} out: {}",
                            request.tenantId(),
                            lost.searched().collection(),
                            searches.get(1 - ok).cause().getMessage());
                    found.unsearched = "collection " + lost.searched().collection() + " could not be searched; "
                            + (ok == 0
                                    ? "files uploaded or changed since the change of model began are left out"
                                    : "only the files re-embedded so far were searched");
                    searches.set(1 - ok, Future.succeededFuture(List.of()));
                    return Future.succeededFuture(joined.result());
                })
                .compose(all -> {
                    found.searchedAt = System.nanoTime();
                    List<List<Candidate>> ranked = new ArrayList<>();
                    boolean full = false;
                    for (int s = 0; s < sides.size(); s++) {
                        List<Scored> hits = searches.get(s).result();
                        full |= hits.size() == k;
                        // Each file's best chunk, in score order (hits come best first).
                        Map<String, Candidate> best = new LinkedHashMap<>();
                        for (Scored hit : hits) {
                            best.putIfAbsent(hit.point().fileId(), new Candidate(hit, sides.get(s)));
                        }
                        ranked.add(List.copyOf(best.values()));
                    }
                    boolean fullPage = full;
                    return check(request, interleaved(ranked), found).compose(v -> {
                        found.checkedAt = System.nanoTime();
                        boolean more = found.results.size() < request.limit() && fullPage && k < MAX_CANDIDATES;
                        return more
                                ? round(request, sides, Math.min(MAX_CANDIDATES, k * 4))
                                : Future.succeededFuture(found);
                    });
                });
    }

    /** The lists' elements rank by rank: the first of each list in their order, then the second of each, and so on. */
    static <T> List<T> interleaved(List<List<T>> lists) {
        List<T> out = new ArrayList<>();
        int longest = lists.stream().mapToInt(List::size).max().orElse(0);
        for (int rank = 0; rank < longest; rank++) {
            for (List<T> list : lists) {
                if (rank < list.size()) {
                    out.add(list.get(rank));
                }
            }
        }
        return out;
    }

    /**
     * Checks the candidates (each file's best hit, in rank order; during a change of model a file may
     * come once from each collection, and the first that agrees is taken) until {@code limit} consistent
     * files are found: their records are read a slice at a time (the first slice is {@code limit}
     * files, so a search whose best files all agree reads only their records; each later slice is
     * three times larger), and the blobs of the best agreeing ones are checked as places are left, so
     * a file is never passed over for a lower one. The excluded hits are recorded as issues once, at
     * the end.
     */
    private Future<Void> check(SearchRequest request, List<Candidate> candidates, Found found) {
        if (candidates.isEmpty()) {
            return Future.succeededFuture();
        }
        Map<String, FileRecord> byId = new HashMap<>();
        Instant began = Instant.now();
        return fill(request, candidates, 0, request.limit(), new ArrayDeque<>(), byId, found)
                .compose(v -> readRepair.report(request.tenantId(), found.excluded, byId, began));
    }

    /**
     * One step: blob-checks the best {@code agreeing} hits not yet checked, as many as places are
     * left; or, with none waiting, reads the records of the next slice from {@code next}.
     */
    private Future<Void> fill(
            SearchRequest request,
            List<Candidate> candidates,
            int next,
            int size,
            Deque<Candidate> agreeing,
            Map<String, FileRecord> byId,
            Found found) {
        int places = request.limit() - found.results.size();
        if (places <= 0) {
            return Future.succeededFuture();
        }
        if (!agreeing.isEmpty()) {
            List<Scored> room = new ArrayList<>();
            while (room.size() < places && !agreeing.isEmpty()) {
                room.add(agreeing.poll().hit());
            }
            long heading = System.nanoTime();
            return blobsAgree(room, byId, found).compose(kept -> {
                found.blobsNanos += System.nanoTime() - heading;
                for (Scored hit : kept) {
                    found.results.add(result(hit, byId.get(hit.point().fileId())));
                }
                return fill(request, candidates, next, size, agreeing, byId, found);
            });
        }
        if (next >= candidates.size()) {
            return Future.succeededFuture();
        }
        List<Candidate> slice = candidates.subList(next, Math.min(candidates.size(), next + size));
        long reading = System.nanoTime();
        List<String> ids = slice.stream().map(Candidate::fileId).distinct().toList();
        Future<List<FileRecord>> read = stores.metadata().getAll(ids);
        // A file whose upload has not committed is not there yet for readers (an undo may still remove
        // it): its hits are left out, and, as the stores do not disagree, not reported.
        Future<Set<String>> uploading = stores.operations().uploading(ids);
        return Future.all(read, uploading).map(both -> read.result()).compose(records -> {
            found.recordsNanos += System.nanoTime() - reading;
            records.forEach(r -> byId.put(r.id(), r));
            for (Candidate candidate : slice) {
                if (uploading.result().contains(candidate.fileId()) || found.taken.contains(candidate.fileId())) {
                    continue;
                }
                FileRecord record = byId.get(candidate.fileId());
                Excluded why = judge(request.tenantId(), candidate, record);
                if (why != null) {
                    found.excluded.add(why);
                } else if (wanted(request, record)) {
                    found.taken.add(candidate.fileId());
                    agreeing.add(candidate);
                }
            }
            return fill(
                    request,
                    candidates,
                    next + slice.size(),
                    Math.max(size * 3, 3 * request.limit()),
                    agreeing,
                    byId,
                    found);
        });
    }

    /** Why {@code point} must not be returned for {@code tenant}, or null when its stores agree. */
    private Excluded judge(String tenant, Candidate candidate, FileRecord record) {
        ChunkPoint point = candidate.hit().point();
        if (record == null || !record.of(tenant)) {
            return new Excluded(point, IssueType.ORPHAN_VECTORS, new JsonObject().put("found_by", "search"));
        }
        if (record.status() == FileRecord.Status.UNREADABLE) {
            // Whether the stores agree cannot be told from a record that cannot be read.
            return new Excluded(
                    point,
                    IssueType.UNREADABLE_RECORD,
                    new JsonObject().put("field", record.unreadable()).put("found_by", "search"));
        }
        if (record.status() == FileRecord.Status.DELETED) {
            return new Excluded(
                    point,
                    IssueType.DELETE_INCOMPLETE,
                    new DeleteLeftovers(null, 1).toJson().put("found_by", "search"));
        }
        FileRecord.Embedding e = record.embedding();
        boolean sameContent = record.sha256().equals(point.contentSha256());
        // A hit was made by the model of its side's collection ({@code served}); the record names that
        // model, or, for the serving collection's copy during a change of model, the new one once the
        // file is re-embedded ({@code renewed}, whatever model this node embeds with).
        String served = candidate.side().by().name();
        String renewed = candidate.side().renewed();
        boolean sameModel = e != null
                && served.equals(point.model())
                && (served.equals(e.model()) || renewed != null && renewed.equals(e.model()));
        if (!sameContent || !sameModel) {
            return new Excluded(
                    point,
                    IssueType.STALE_VECTORS,
                    new JsonObject()
                            .put("contentSha256", record.sha256())
                            .put("pointContentSha256", point.contentSha256())
                            .put("model", e == null ? null : e.model())
                            .put("pointModel", point.model())
                            .put("currentModel", model.name())
                            .put("found_by", "search"));
        }
        return null;
    }

    private static boolean wanted(SearchRequest request, FileRecord record) {
        return (request.fileIds() == null || request.fileIds().contains(record.id()))
                && (request.contentTypes() == null
                        || request.contentTypes().stream().anyMatch(type -> FileFields.mediaType(type)
                                .equals(FileFields.mediaType(record.contentType()))));
    }

    /**
     * The hits whose blob still has the ETag recorded at ingest: content replaced behind trisync's
     * back is the blob's issue ({@link #blobDiffers}), never the vectors' (a HEAD per returned file, in parallel, unless {@link
     * VerifiedBlobs} saw that blob match its record less than {@code SEARCH_BLOB_RECHECK_SECONDS}
     * ago). A record without an ETag is not checked; a blob that cannot be read now fails the search
     * (503).
     */
    private Future<List<Scored>> blobsAgree(List<Scored> hits, Map<String, FileRecord> byId, Found found) {
        long now = System.currentTimeMillis();
        List<String> keys = new ArrayList<>();
        List<Future<BlobInfo>> heads = new ArrayList<>();
        for (Scored hit : hits) {
            FileRecord r = byId.get(hit.point().fileId());
            String key = StoreKeys.blobKey(r.tenantId(), r.partition(), r.id());
            boolean unchecked = r.blobEtag() == null || verified.fresh(key, r.blobEtag(), now);
            keys.add(unchecked ? null : key);
            heads.add(
                    unchecked
                            ? Future.succeededFuture(null)
                            : stores.blobs()
                                    .head(key)
                                    .recover(e -> e instanceof Failure.NotFound
                                            ? Future.succeededFuture(null)
                                            : Future.failedFuture(e)));
        }
        return Future.all(heads).map(v -> {
            List<Scored> kept = new ArrayList<>();
            for (int i = 0; i < hits.size(); i++) {
                Scored hit = hits.get(i);
                String key = keys.get(i);
                if (key == null) {
                    kept.add(hit);
                    continue;
                }
                found.blobsHeaded++;
                FileRecord r = byId.get(hit.point().fileId());
                BlobInfo blob = heads.get(i).result();
                if (blob != null && r.blobEtag().equals(blob.etag())) {
                    verified.matched(key, blob.etag(), now);
                    kept.add(hit);
                } else {
                    verified.differed(key);
                    found.excluded.add(blobDiffers(hit.point(), r, blob));
                }
            }
            return kept;
        });
    }

    /**
     * The issue a hit is whose blob is not the object recorded at ingest ({@code blob}: a HEAD of it,
     * null when there is none). The hit passed {@link #judge}: its points were made from the record's
     * content, so the vectors are not what is wrong, the blob is: {@code MISSING_BLOB}, {@code
     * SIZE_MISMATCH} when its size differs from the record's, else {@code CHECKSUM_MISMATCH} (its
     * {@code sha256} metadata differs from the record's, or agrees but the object was written since
     * ingest and its bytes are unverified). Such an issue is never closed on a HEAD's word: a full scan
     * hashes the bytes of a file with one open, and a repair's {@code VERIFY_CONTENT} does too. (It
     * was recorded as {@code STALE_VECTORS}, whose re-embed found nothing to do and marked a file with
     * corrupted bytes synced.)
     */
    static Excluded blobDiffers(ChunkPoint point, FileRecord record, BlobInfo blob) {
        JsonObject details = new JsonObject()
                .put("recordedEtag", record.blobEtag())
                .put("etag", blob == null ? null : blob.etag())
                .put("found_by", "search");
        if (blob == null) {
            return new Excluded(point, IssueType.MISSING_BLOB, details);
        }
        if (blob.size() != record.size()) {
            return new Excluded(
                    point,
                    IssueType.SIZE_MISMATCH,
                    details.put("recorded", record.size()).put("actual", blob.size()));
        }
        details.put("recorded", record.sha256());
        if (blob.sha256() != null && !blob.sha256().equals(record.sha256())) {
            details.put("actual", blob.sha256());
        } else {
            details.put("unverified", "the object was written since ingest; its bytes decide");
        }
        return new Excluded(point, IssueType.CHECKSUM_MISMATCH, details);
    }

    private static SearchMessages.SearchHit result(Scored hit, FileRecord record) {
        return new SearchMessages.SearchHit(
                record.id(),
                record.name(),
                Math.round(hit.score() * 10_000) / 10_000.0,
                hit.point().chunk(),
                hit.point().text(),
                record.contentType(),
                record.updatedAt() == null ? null : record.updatedAt().toString());
    }

    /** One {@code search.excluded} event for a search that left hits out: how many, by issue type. */
    private Future<Void> excludedEvent(SearchRequest request, Found found) {
        if (found.excluded.isEmpty()) {
            return Future.succeededFuture();
        }
        JsonObject byType = new JsonObject();
        found.excluded.forEach(
                x -> byType.put(x.type().name(), byType.getInteger(x.type().name(), 0) + 1));
        byType.forEach(e -> metrics.searchExcluded(e.getKey(), ((Number) e.getValue()).longValue()));
        return events.publish(
                        request.tenantId(),
                        EventTypes.SEARCH_EXCLUDED,
                        null,
                        null,
                        new JsonObject().put("excluded", found.excluded.size()).put("byType", byType))
                .mapEmpty();
    }
}
