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
}
