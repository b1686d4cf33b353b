package io.trisync.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.trisync.config.ConfigException;
import io.trisync.testsupport.TestStack;
import io.vertx.core.Vertx;
import io.vertx.ext.mongo.MongoClient;
import io.vertx.junit5.VertxExtension;
import java.time.Instant;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The check of a database written before its partition count was recorded, against the real
 * (embedded) MongoDB: its sample reaches from the oldest file ids to the newest.
 */
@ExtendWith(VertxExtension.class)
@Timeout(120)
class DeploymentPartitionsIT {

    private static final Random RANDOM = new Random();

    private MongoClient mongo;

    /** When the first file of the database was uploaded; each file after it one second later. */
    private final long start = Instant.parse("2025-03-01T00:00:00Z").toEpochMilli();

    private int written;

    @BeforeEach
    void database(Vertx vertx) {
        mongo = TestStack.ownDatabase(vertx, "deployment-partitions");
    }

    @AfterEach
    void close() {
        mongo.close().await();
    }

    /** A file id as {@code ingest.FileIds} makes one (UUID version 7), of the millisecond {@code millis}. */
    private static String fileId(long millis) {
        long msb = (millis << 16) | 0x7000L | (RANDOM.nextInt() & 0x0FFFL);
        long lsb = (RANDOM.nextLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L;
        return new UUID(msb, lsb).toString();
    }

    /** Uploads {@code files} records after those written so far, each in its partition among {@code partitions}. */
    private void write(int files, int partitions) {
        for (int i = 0; i < files; i++) {
            Instant at = Instant.ofEpochMilli(start + 1000L * written++);
            String id = fileId(at.toEpochMilli());
            mongo.insert(
                            MongoMetadataStore.FILES,
                            new FileRecord(
                                            id,
                                            "t",
                                            "n.txt",
                                            "text/plain",
                                            1,
                                            "ab".repeat(32),
                                            FileRecord.Status.ACTIVE,
                                            1,
                                            StoreKeys.partition(id, partitions),
                                            null,
                                            at,
                                            at,
                                            null)
                                    .toDocument())
                    .await();
        }
    }

    private Throwable refusal(int partitions) {
        return catchThrowable(() -> new DeploymentPartitions(mongo, partitions, "node-" + partitions)
                .settle()
                .await());
    }

    @Test
    @DisplayName("Records written with 4 partitions and then, after the count was changed, with 8: a node of"
            + " either count is refused, though the oldest hundred all agree with 4")
    void countChangedBeforeTheCheckIsRefused() {
        write(120, 4);
        write(30, 8);

        Throwable four = refusal(4);
        assertThat(four).as("a node of 4 on records of 4, then 8").isInstanceOf(ConfigException.class);
        assertThat(four.getMessage()).startsWith("SYNC_PARTITIONS is 4, but ").contains("agree with no one count");
        assertThat(refusal(8)).as("a node of 8 on records of 4, then 8").isInstanceOf(ConfigException.class);
        assertThat(new DeploymentPartitions(mongo, 4, "n").read().await())
                .as("nothing recorded")
                .isNull();
    }

    @Test
    @DisplayName("Records all written with 4 partitions: a node of 4 records 4 from a sample of a hundred, a node"
            + " of 8 is refused naming 4")
    void oneCountAcrossTheIdSpaceIsRecorded() {
        write(150, 4);

        assertThat(refusal(8).getMessage()).contains("the records sampled agree with 4");
        PartitionCount recorded =
                new DeploymentPartitions(mongo, 4, "node-4").settle().await();
        assertThat(recorded.partitions()).isEqualTo(4);
        assertThat(recorded.basis()).isEqualTo(PartitionCount.SAMPLED);
        // Ranges that meet (the last middle one and the newest) share a few records.
        assertThat(recorded.sampled())
                .isLessThanOrEqualTo(DeploymentPartitions.SAMPLE)
                .isGreaterThan(DeploymentPartitions.SAMPLE - DeploymentPartitions.PER_RANGE);
    }
}
