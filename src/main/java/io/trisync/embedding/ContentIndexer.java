package io.trisync.embedding;

import io.trisync.failure.Failure;
import io.trisync.store.ChunkPoint;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;

/**
 * Bytes to chunk points: extract text, split into chunks, embed each. Used by uploads and by
 * repairs that re-embed a file. A file whose text extraction fails gets no points and the reason,
 * which the caller records instead of calling the file synced. A large file is indexed a batch at a
 * time ({@link #stream}): its chunks, vectors and points are never all held at once. Blocking: run on
 * a worker.
 */
public final class ContentIndexer {

    /** The file the content belongs to, as its points record it. */
    public record Target(
            String tenantId, String fileId, int partition, String sha256, String contentType, String name) {}

    /** The points of a file's content, or why its text could not be extracted ({@code failure}, then no points). */
    public record Indexed(List<ChunkPoint> points, String failure) {

        public Indexed {
            points = List.copyOf(points);
        }

        public boolean failed() {
            return failure != null;
        }
    }

    private final TextExtractor extractor = new TextExtractor();
    private final Chunker chunker = new Chunker();
    private final EmbeddingModel model;

    public ContentIndexer(EmbeddingModel model) {
        this.model = model;
    }

    public String modelName() {
        return model.name();
    }

    public int dimension() {
        return model.dimension();
    }

    /** A file's text split into chunks, or why its text could not be extracted. */
    public record Prepared(Target target, List<String> chunks, String failure) {}

    /** Extracts and chunks the file's text (no embedding yet). */
    public Prepared prepare(byte[] content, Target target) {
        return prepare(ByteBuffer.wrap(content), target);
    }

    /** {@link #prepare(byte[], Target)} of the bytes {@code content} views (read, never copied whole). */
    public Prepared prepare(ByteBuffer content, Target target) {
        TextExtractor.Extraction extraction = extractor.extract(content, target.contentType(), target.name());
        return extraction.failed()
                ? new Prepared(target, List.of(), extraction.failure())
                : new Prepared(target, readableChunks(extraction.text()), null);
    }

    /**
     * The chunks of {@code text} that hold something to read ({@link Chunker#readable}): a chunk of
     * no-break spaces, zero-width or control characters alone is left out, as white space is, so that
     * the model is never handed a text it makes no token of (the local model refuses one, and its
     * upload failed 500). Every path that embeds a file's content takes its chunks from here, so the
     * chunks recorded and the points made agree.
     */
    private static Iterator<String> readableChunks(Iterator<String> chunks) {
        return new Iterator<>() {
            private String next = advance();

            private String advance() {
                while (chunks.hasNext()) {
                    String chunk = chunks.next();
                    if (Chunker.readable(chunk)) {
                        return chunk;
                    }
                }
                return null;
            }

            @Override
            public boolean hasNext() {
                return next != null;
            }

            @Override
            public String next() {
                if (next == null) {
                    throw new NoSuchElementException();
                }
                String chunk = next;
                next = advance();
                return chunk;
            }
        };
    }

    private List<String> readableChunks(String text) {
        List<String> chunks = new ArrayList<>();
        readableChunks(chunker.chunks(text)).forEachRemaining(chunks::add);
        return chunks;
    }

    /**
     * One point per chunk of the file's text (none when it has no text to extract), or no points and
     * the reason when its extraction failed.
     */
    public Indexed index(byte[] content, Target target) {
        return index(ByteBuffer.wrap(content), target);
    }

    /** {@link #index(byte[], Target)} of the bytes {@code content} views (read, never copied whole). */
    public Indexed index(ByteBuffer content, Target target) {
        return indexAll(List.of(prepare(content, target))).get(0);
    }

    /** Where a file's points go as they are made: the stage completes once the batch is written. */
    @FunctionalInterface
    public interface PointSink {
        CompletionStage<Void> write(List<ChunkPoint> batch);

        /**
         * Writes each batch with {@code write} run on {@code context} (where store calls belong), while
         * {@link #stream} waits for it on a worker.
         */
        static PointSink on(Context context, Function<List<ChunkPoint>, Future<Void>> write) {
            return batch -> {
                Promise<Void> written = Promise.promise();
                context.runOnContext(v -> {
                    try {
                        write.apply(batch).onComplete(written);
                    } catch (RuntimeException e) {
                        // A write that throws at once fails the batch: the stream waits for it.
                        written.tryFail(e);
                    }
                });
                return written.future().toCompletionStage();
            };
        }
    }

    /**
     * What {@link #stream} wrote: {@code chunks} points, the file's whole embedding; or ({@code
     * failure} set, {@code chunks} 0) why its text could not be extracted or the model refused it, in
     * which case the first {@code written} points had been written before the refusal.
     */
    public record Streamed(int chunks, String failure, int written) {

        public boolean failed() {
            return failure != null;
        }
    }

    /**
     * The points of one file made and handed to {@code sink} {@code batch} chunks at a time: the next
     * batch is embedded while the previous one is written, and only these two are held besides the
     * text. Ends once every batch handed to the sink is written, also when it fails (a model that
     * fails part way, or a write that fails), so that nothing lands after the failure is reported:
     * the caller then removes the points written so far. A model that refuses the content ({@link
     * Failure.BadRequest}) ends it as an extraction failure does, without throwing.
     */
    public Streamed stream(ByteBuffer content, Target target, int batch, PointSink sink) {
        TextExtractor.Extraction extraction = extractor.extract(content, target.contentType(), target.name());
        if (extraction.failed()) {
            return new Streamed(0, extraction.failure(), 0);
        }
        Iterator<String> chunks = readableChunks(chunker.chunks(extraction.text()));
        CompletableFuture<Void> writing = CompletableFuture.completedFuture(null);
        int written = 0;
        try {
            while (chunks.hasNext()) {
                List<String> texts = new ArrayList<>(batch);
                while (texts.size() < batch && chunks.hasNext()) {
                    texts.add(chunks.next());
                }
                List<float[]> vectors;
                try {
                    vectors = model.embed(texts);
                } catch (Failure.BadRequest refused) {
                    written(writing);
                    return new Streamed(0, refused.getMessage(), written);
                }
                List<ChunkPoint> points = points(target, written, texts, vectors);
                written(writing);
                writing = sink.write(points).toCompletableFuture();
                written += points.size();
            }
            written(writing);
            return new Streamed(written, null, written);
        } catch (RuntimeException | Error e) {
            writing.handle((v, ignored) -> null).join();
            throw e;
        }
    }

    private List<ChunkPoint> points(Target t, int first, List<String> texts, List<float[]> vectors) {
        List<ChunkPoint> points = new ArrayList<>(texts.size());
        for (int i = 0; i < texts.size(); i++) {
            points.add(ChunkPoint.of(
                    t.tenantId(),
                    t.fileId(),
                    first + i,
                    t.partition(),
                    t.sha256(),
                    model.name(),
                    vectors.get(i),
                    texts.get(i)));
        }
        return points;
    }

    /** Waits for {@code writing}; throws as it failed. */
    private static void written(CompletableFuture<Void> writing) {
        try {
            writing.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw e;
        }
    }

    /**
     * The points of several prepared files, their chunks embedded together (the model batches them
     * as it can: fewer round trips to a remote service). If the service refuses the combined input,
     * each file is embedded alone, so only the file it refuses is kept without search.
     */
    public List<Indexed> indexAll(List<Prepared> files) {
        List<String> texts = new ArrayList<>();
        for (Prepared f : files) {
            texts.addAll(f.chunks());
        }
        List<float[]> vectors;
        try {
            vectors = texts.isEmpty() ? List.of() : model.embed(texts);
        } catch (Failure.BadRequest refused) {
            if (files.size() == 1) {
                // The provider refused this content for good: kept without search, like unreadable text.
                return List.of(new Indexed(List.of(), refused.getMessage()));
            }
            List<Indexed> one = new ArrayList<>(files.size());
            for (Prepared f : files) {
                one.addAll(indexAll(List.of(f)));
            }
            return one;
        }
        List<Indexed> out = new ArrayList<>(files.size());
        int next = 0;
        for (Prepared f : files) {
            if (f.failure() != null) {
                out.add(new Indexed(List.of(), f.failure()));
                continue;
            }
            List<ChunkPoint> points = new ArrayList<>(f.chunks().size());
            for (int i = 0; i < f.chunks().size(); i++) {
                Target t = f.target();
                points.add(ChunkPoint.of(
                        t.tenantId(),
                        t.fileId(),
                        i,
                        t.partition(),
                        t.sha256(),
                        model.name(),
                        vectors.get(next++),
                        f.chunks().get(i)));
            }
            out.add(new Indexed(points, null));
        }
        return out;
    }
}
