package io.trisync.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class DeploymentPartitionsTest {

    private static List<FileRecord> written(int files, int partitions) {
        List<FileRecord> out = new ArrayList<>();
        Instant now = Instant.now();
        for (int i = 0; i < files; i++) {
            String id = UUID.randomUUID().toString();
            out.add(new FileRecord(
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
                    now,
                    now,
                    null));
        }
        return out;
    }

    @Test
    @DisplayName("The count a refusal names is the one the sampled records were written with")
    void agreedCountIsTheWrittenOne() {
        for (int partitions : List.of(1, 4, 12, 64, 512)) {
            assertThat(DeploymentPartitions.agreedCount(written(100, partitions)))
                    .as("records of %d partitions", partitions)
                    .isEqualTo(partitions);
        }
    }

    @Test
    @DisplayName("partitionHash modulo a count is the partition among that count")
    void partitionHashIsThePartitionsBase() {
        for (int i = 0; i < 1000; i++) {
            String id = "file-" + i;
            for (int partitions : List.of(1, 7, 64, 1000)) {
                assertThat((int) (StoreKeys.partitionHash(id) % partitions))
                        .isEqualTo(StoreKeys.partition(id, partitions));
            }
        }
    }

    @Test
    @DisplayName("A stored count that is no whole number of 1 or more reads as no count (0)")
    void unreadableCountIsNone() {
        JsonObject stored = new PartitionCount(8, "2026-01-01T00:00:00Z", "n1", PartitionCount.EMPTY, 0).toDocument();
        assertThat(PartitionCount.fromDocument(stored).partitions()).isEqualTo(8);
        assertThat(PartitionCount.fromDocument(stored.copy().put(PartitionCount.PARTITIONS, 8.0))
                        .partitions())
                .isEqualTo(8);
        for (Object bad : new Object[] {"8", 0, -4, 8.5, null}) {
            assertThat(PartitionCount.fromDocument(stored.copy().put(PartitionCount.PARTITIONS, bad))
                            .partitions())
                    .as("partitions %s", bad)
                    .isZero();
        }
        assertThat(PartitionCount.fromDocument(null)).isNull();
    }

    @Test
    @DisplayName("A record or two edited by hand among many does not stop a start; data of another count does")
    void fewHandEditedRecordsAreTolerated() {
        assertThat(DeploymentPartitions.handEditedAtMost(0, 1)).isTrue();
        assertThat(DeploymentPartitions.handEditedAtMost(1, 100)).isTrue();
        assertThat(DeploymentPartitions.handEditedAtMost(5, 100)).isTrue();
        assertThat(DeploymentPartitions.handEditedAtMost(6, 100)).isFalse();
        assertThat(DeploymentPartitions.handEditedAtMost(1, 6)).isFalse();
        assertThat(DeploymentPartitions.handEditedAtMost(50, 100)).isFalse();
    }

    @Test
    @DisplayName("The ids between the oldest and the newest are UUID version 7 boundaries evenly apart in time;"
            + " none for ids that are no UUID version 7")
    void idsBetweenAreEvenlyApartInTime() {
        String oldest = new UUID((1_000L << 16) | 0x7abcL, 0x8000000000000001L).toString();
        String newest = new UUID((5_000L << 16) | 0x7123L, 0x8000000000000002L).toString();
        String half = DeploymentPartitions.idBetween(oldest, newest, 2, 4);
        assertThat(UUID.fromString(half).getMostSignificantBits() >>> 16).isEqualTo(3_000L);
        assertThat(half).isGreaterThan(oldest).isLessThan(newest);
        assertThat(DeploymentPartitions.idBetween(oldest, newest, 1, 4))
                .isLessThan(half)
                .isGreaterThan(oldest);
        assertThat(DeploymentPartitions.idBetween("file-1", newest, 1, 4)).isNull();
        assertThat(DeploymentPartitions.idBetween(UUID.randomUUID().toString(), newest, 1, 4))
                .as("version 4")
                .isNull();
        assertThat(DeploymentPartitions.idBetween(newest, oldest, 1, 4)).isNull();
    }
}
