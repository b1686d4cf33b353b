package io.trisync.store;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits the values of a {@code $in} into lists of at most {@link #SIZE}. The embedded MongoDB
 * (mongo-java-server) finds the documents of an {@code _id: {$in: ids}} through the index but then
 * checks each against the whole list, one value after the other: a grouped verdict write of 16,000
 * files took 24.8 s as one {@code $in} and 0.7 s as 63 of 256 (one bulk write either way), and at a
 * million files per tenant the whole ones outlasted the client's socket timeout. Real MongoDB is
 * indifferent to the split.
 */
final class InChunks {

    static final int SIZE = 256;

    private InChunks() {}

    static <T> List<List<T>> of(List<T> values) {
        List<List<T>> chunks = new ArrayList<>((values.size() + SIZE - 1) / SIZE);
        for (int i = 0; i < values.size(); i += SIZE) {
            chunks.add(values.subList(i, Math.min(values.size(), i + SIZE)));
        }
        return chunks;
    }
}
