package io.trisync.embedded.qdrant;

import io.qdrant.client.grpc.Collections.Distance;

/**
 * Qdrant's distance functions. Cosine vectors are normalised on the way in, so cosine scores are
 * dot products; Euclid and Manhattan report the distance itself, where smaller is better.
 */
final class Scoring {

    private Scoring() {}

    static float[] prepare(Distance distance, float[] vector) {
        if (distance != Distance.Cosine) {
            return vector;
        }
        double norm = 0;
        for (float x : vector) {
            norm += (double) x * x;
        }
        if (norm == 0) {
            return vector;
        }
        double scale = 1 / Math.sqrt(norm);
        float[] out = new float[vector.length];
        for (int i = 0; i < vector.length; i++) {
            out[i] = (float) (vector[i] * scale);
        }
        return out;
    }

    static float score(Distance distance, float[] query, float[] stored) {
        double acc = 0;
        switch (distance) {
            case Euclid -> {
                for (int i = 0; i < query.length; i++) {
                    double d = query[i] - stored[i];
                    acc += d * d;
                }
                return (float) Math.sqrt(acc);
            }
            case Manhattan -> {
                for (int i = 0; i < query.length; i++) {
                    acc += Math.abs(query[i] - stored[i]);
                }
                return (float) acc;
            }
            default -> {
                for (int i = 0; i < query.length; i++) {
                    acc += (double) query[i] * stored[i];
                }
                return (float) acc;
            }
        }
    }

    /** True when a higher score is a better match (cosine, dot). */
    static boolean higherIsBetter(Distance distance) {
        return distance == Distance.Cosine || distance == Distance.Dot;
    }
}
