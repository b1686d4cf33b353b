package io.trisync.bench;

import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.onnx.allminilml6v2q.AllMiniLmL6V2QuantizedEmbeddingModel;
import io.trisync.embedding.Chunker;
import io.trisync.embedding.MiniLmEmbeddingModel;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * trisync's ONNX setup of all-MiniLM-L6-v2 (one thread per inference, one inference per core) beside
 * the library's default setup of the same model, alternated three times on 240 chunks of 150 words,
 * and the cosine between their vectors of one chunk. Prints figures; asserts nothing about time.
 */
@Tag("bench")
class EmbedProbe {

    @Test
    void probe() {
        Chunker chunker = new Chunker();
        List<String> chunks = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
            chunks.addAll(chunker.chunk(IngestBench.text4k(i)));
        }
        AllMiniLmL6V2QuantizedEmbeddingModel library = new AllMiniLmL6V2QuantizedEmbeddingModel();
        MiniLmEmbeddingModel ours = MiniLmEmbeddingModel.shared();
        Consumer<List<String>> libraryCall =
                batch -> library.embedAll(batch.stream().map(TextSegment::from).toList());
        Consumer<List<String>> ourCall = ours::embed;
        for (int round = 0; round < 3; round++) {
            run("library default setup", libraryCall, chunks);
            run("trisync setup", ourCall, chunks);
        }
        float[] a = library.embed(chunks.get(3)).content().vector();
        float[] b = ours.embed(List.of(chunks.get(3))).get(0);
        double dot = 0;
        for (int i = 0; i < a.length; i++) {
            dot += a[i] * b[i];
        }
        System.out.printf(Locale.ROOT, "EMBED cosine between the two setups' vectors of one chunk: %.7f%n", dot);
    }

    private static void run(String what, Consumer<List<String>> embed, List<String> chunks) {
        embed.accept(chunks.subList(0, 16));
        long t0 = System.nanoTime();
        for (int i = 0; i < chunks.size(); i += 32) {
            embed.accept(chunks.subList(i, Math.min(chunks.size(), i + 32)));
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        System.out.printf(
                Locale.ROOT, "EMBED %-24s %4d chunks %6.1f chunks/s%n", what, chunks.size(), chunks.size() / seconds);
    }
}
