package io.trisync.embedding;

import java.util.List;

/** A sentence-embedding model. Implementations are thread-safe and blocking: call them off the event loop. */
public interface EmbeddingModel {

    /** The model's name as recorded on files and points. */
    String name();

    /** The dimension of every vector it returns. */
    int dimension();

    /** One vector per text, in order. */
    List<float[]> embed(List<String> texts);
}
