package io.trisync.ingest;

import io.trisync.embedding.Chunker;
import io.trisync.embedding.EmbeddingModel;
import io.trisync.embedding.TextExtractor;
import io.trisync.store.ChunkPoint;
import io.trisync.store.IngestOperation;
import java.util.ArrayList;
import java.util.List;

/** Bytes to chunk points: extract text, split into chunks, embed each. Blocking: run on a worker. */
final class ContentIndexer {

    private final TextExtractor extractor = new TextExtractor();
    private final Chunker chunker = new Chunker();
    private final EmbeddingModel model;

    ContentIndexer(EmbeddingModel model) {
        this.model = model;
    }

    String modelName() {
        return model.name();
    }

    int dimension() {
        return model.dimension();
    }

    /** One point per chunk of the file's text (none when it has no extractable text). */
    List<ChunkPoint> index(byte[] content, IngestOperation op) {
        String text = extractor.extract(content, op.contentType(), op.name());
        List<String> chunks = chunker.chunk(text);
        List<float[]> vectors = model.embed(chunks);
        List<ChunkPoint> points = new ArrayList<>(chunks.size());
        for (int i = 0; i < chunks.size(); i++) {
            points.add(ChunkPoint.of(
                    op.tenantId(), op.fileId(), i, op.partition(), op.sha256(), model.name(), vectors.get(i)));
        }
        return points;
    }
}
