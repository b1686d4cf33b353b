package io.trisync.embedded;

import static org.assertj.core.api.Assertions.assertThat;

import de.bwaldvogel.mongo.bson.Document;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class ReplaySafetyTest {

    private static Document update(Document q, Object u, boolean upsert) {
        return new Document("update", "files")
                .append("updates", List.of(new Document("q", q).append("u", u).append("upsert", upsert)));
    }

    @Test
    @DisplayName("The writes trisync makes replay exactly: updates and upserts by _id, $inc, $set, inserts, deletes")
    void trisyncWritesAreSafe() {
        Document byId = new Document("_id", "f-1");
        assertThat(ReplaySafety.unsafe("update", update(byId, new Document("$inc", new Document("seq", 2L)), true)))
                .isNull();
        assertThat(ReplaySafety.unsafe(
                        "update",
                        update(new Document("tenantId", "t"), new Document("$set", new Document("a", 1)), false)))
                .as("a multi-document $set without upsert")
                .isNull();
        assertThat(ReplaySafety.unsafe(
                        "findAndModify",
                        new Document("findAndModify", "counters")
                                .append("query", new Document("_id", new Document("$eq", "t")))
                                .append("update", new Document("$inc", new Document("seq", 1)))
                                .append("upsert", true)))
                .isNull();
        assertThat(ReplaySafety.unsafe("insert", new Document("insert", "files")))
                .isNull();
        assertThat(ReplaySafety.unsafe("delete", new Document("delete", "files")))
                .isNull();
    }

    @Test
    @DisplayName("Writes a replay would change are named: $currentDate, pipeline updates, upserts without a fixed _id")
    void nonDeterministicWritesAreNamed() {
        assertThat(ReplaySafety.unsafe(
                        "update",
                        update(
                                new Document("_id", "f-1"),
                                new Document("$currentDate", new Document("at", true)),
                                false)))
                .contains("$currentDate");
        assertThat(ReplaySafety.unsafe(
                        "update",
                        update(
                                new Document("_id", "f-1"),
                                List.of(new Document("$set", new Document("at", "$$NOW"))),
                                false)))
                .contains("pipeline");
        assertThat(ReplaySafety.unsafe(
                        "update", update(new Document("name", "a"), new Document("$set", new Document("b", 1)), true)))
                .contains("_id");
        assertThat(ReplaySafety.unsafe(
                        "findAndModify",
                        new Document("findAndModify", "c")
                                .append("query", new Document("_id", new Document("$in", List.of("a", "b"))))
                                .append("update", new Document("$set", new Document("b", 1)))
                                .append("upsert", true)))
                .contains("_id");
    }
}
