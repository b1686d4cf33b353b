package io.trisync.embedding;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.trisync.failure.Failure;
import io.trisync.store.ChunkPoint;
import io.vertx.core.Vertx;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class ContentIndexerTest {

    private static final ContentIndexer.Target TARGET =
            new ContentIndexer.Target("t", "f", 3, "sha", "text/plain", "f.txt");

    /** A text of {@code words} words: 150-word chunks overlapping by 30, so (words - 30) / 120 chunks. */
    private static ByteBuffer text(int words) {
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < words; i++) {
            text.append("w").append(i).append(i % 17 == 0 ? "\n" : " ");
        }
        return ByteBuffer.wrap(text.toString().getBytes(StandardCharsets.UTF_8));
    }

    /** A model whose vector of a text is its length; it fails (once it has embedded {@code failAfter} batches) with {@code failure}. */
    private static final class CountingModel implements EmbeddingModel {
        final AtomicInteger calls = new AtomicInteger();
        final int failAfter;
        final RuntimeException failure;

        CountingModel(int failAfter, RuntimeException failure) {
            this.failAfter = failAfter;
            this.failure = failure;
        }

        @Override
        public String name() {
            return "counting@1";
        }

        @Override
        public int dimension() {
            return 1;
        }

        @Override
        public List<float[]> embed(List<String> texts) {
            if (calls.incrementAndGet() > failAfter) {
                throw failure;
            }
            return texts.stream().map(t -> new float[] {t.length()}).toList();
        }
    }

    @Test
    @DisplayName("Points made a batch at a time are those of the whole file made at once, numbered across batches")
    void streamedPointsAreThoseOfTheWholeFile() {
        ContentIndexer indexer = new ContentIndexer(new CountingModel(Integer.MAX_VALUE, null));
        List<ChunkPoint> whole = indexer.index(text(12_345), TARGET).points();
        List<List<ChunkPoint>> batches = new ArrayList<>();

        ContentIndexer.Streamed streamed = indexer.stream(text(12_345), TARGET, 16, batch -> {
            batches.add(batch);
            return CompletableFuture.completedFuture(null);
        });

        assertThat(whole).hasSize(103);
        assertThat(streamed).isEqualTo(new ContentIndexer.Streamed(103, null, 103));
        assertThat(batches).hasSize(7);
        assertThat(batches.subList(0, 6)).allSatisfy(b -> assertThat(b).hasSize(16));
        List<ChunkPoint> all = batches.stream().flatMap(List::stream).toList();
        assertThat(all)
                .extracting(ChunkPoint::id)
                .isEqualTo(whole.stream().map(ChunkPoint::id).toList());
        assertThat(all)
                .extracting(ChunkPoint::text)
                .isEqualTo(whole.stream().map(ChunkPoint::text).toList());
        assertThat(all).extracting(ChunkPoint::chunk).containsExactlyElementsOf(range(103));
    }

    @Test
    @DisplayName("A model that fails part way fails the file only once the batch being written has been written")
    void failureWaitsForTheWriteInFlight() {
        RuntimeException down = new Failure.Unavailable("embedding", "down", null);
        ContentIndexer indexer = new ContentIndexer(new CountingModel(3, down));
        List<CompletableFuture<Void>> writes = new CopyOnWriteArrayList<>();
        List<String> log = new CopyOnWriteArrayList<>();

        assertThatThrownBy(() -> indexer.stream(text(12_345), TARGET, 16, batch -> {
                    CompletableFuture<Void> write = new CompletableFuture<>();
                    writes.add(write);
                    // The store answers a moment later, from another thread.
                    new Thread(() -> {
                                log.add("written " + batch.get(0).chunk());
                                write.complete(null);
                            })
                            .start();
                    return write;
                }))
                .isSameAs(down);
        log.add("failed");

        assertThat(writes).hasSize(3).allSatisfy(w -> assertThat(w).isDone());
        assertThat(log).containsExactly("written 0", "written 16", "written 32", "failed");
    }

    @Test
    @DisplayName("A write that throws at once on its event loop fails the batch: the stream ends with it, never waits")
    void writeThrowingAtOnceFailsTheBatch() {
        Vertx vertx = Vertx.vertx();
        try {
            IllegalStateException refused = new IllegalStateException("refused at once");
            ContentIndexer.PointSink sink = ContentIndexer.PointSink.on(vertx.getOrCreateContext(), batch -> {
                throw refused;
            });
            ContentIndexer indexer = new ContentIndexer(new CountingModel(Integer.MAX_VALUE, null));
            CompletableFuture<Throwable> ended = CompletableFuture.supplyAsync(() -> {
                try {
                    indexer.stream(text(1_000), TARGET, 4, sink);
                    return null;
                } catch (RuntimeException e) {
                    return e;
                }
            });
            assertThat(ended).succeedsWithin(Duration.ofSeconds(10)).isSameAs(refused);
        } finally {
            vertx.close().await();
        }
    }

    @Test
    @DisplayName("A write that fails ends the file with its failure, and no later batch is embedded")
    void failedWriteStopsTheFile() {
        CountingModel model = new CountingModel(Integer.MAX_VALUE, null);
        ContentIndexer indexer = new ContentIndexer(model);
        RuntimeException storeDown = new Failure.Unavailable("qdrant", "down", null);
        AtomicInteger written = new AtomicInteger();

        assertThatThrownBy(() -> indexer.stream(
                        text(12_345),
                        TARGET,
                        16,
                        batch -> written.incrementAndGet() == 2
                                ? CompletableFuture.failedFuture(storeDown)
                                : CompletableFuture.completedFuture(null)))
                .isSameAs(storeDown);
        assertThat(written.get()).isEqualTo(2);
        // The third batch was embedded while the second was written, not a fourth.
        assertThat(model.calls.get()).isEqualTo(3);
    }

    @Test
    @DisplayName("Content the model refuses part way ends as refused, saying how many points were written before")
    void refusalPartWaySaysWhatWasWritten() {
        ContentIndexer indexer =
                new ContentIndexer(new CountingModel(2, new Failure.BadRequest("refused by the test")));

        ContentIndexer.Streamed streamed =
                indexer.stream(text(12_345), TARGET, 16, batch -> CompletableFuture.completedFuture(null));

        assertThat(streamed).isEqualTo(new ContentIndexer.Streamed(0, "refused by the test", 32));
        assertThat(streamed.failed()).isTrue();
    }

    private static List<Integer> range(int n) {
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(i);
        }
        return out;
    }
}
