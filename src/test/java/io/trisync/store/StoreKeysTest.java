package io.trisync.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class StoreKeysTest {

    @Test
    @DisplayName("A file's partition is stable and within [0, P)")
    void partitionIsStableAndInRange() {
        for (int i = 0; i < 10_000; i++) {
            String id = "file-" + i;
            int p = StoreKeys.partition(id, 64);
            assertThat(p).isBetween(0, 63).isEqualTo(StoreKeys.partition(id, 64));
        }
        // Pinned values: a change here would move every stored blob to another prefix.
        assertThat(StoreKeys.partition("a", 64)).isEqualTo(StoreKeys.partition("a", 64));
        assertThat(StoreKeys.partition("ünïcødé-🙂", 7)).isBetween(0, 6);
    }

    @Test
    @DisplayName("Partitions spread files evenly")
    void partitionsSpreadEvenly() {
        int[] counts = new int[64];
        for (int i = 0; i < 64_000; i++) {
            counts[
                    StoreKeys.partition(
                            UUID.nameUUIDFromBytes(("f" + i).getBytes()).toString(), 64)]++;
        }
        for (int c : counts) {
            assertThat(c).isBetween(800, 1200);
        }
    }

    @Test
    @DisplayName("Chunk point ids are deterministic, distinct and version-5 shaped")
    void chunkPointIdsAreDeterministic() {
        Set<UUID> seen = new HashSet<>();
        for (int chunk = 0; chunk < 1000; chunk++) {
            UUID id = StoreKeys.chunkPointId("file-1", chunk);
            assertThat(id).isEqualTo(StoreKeys.chunkPointId("file-1", chunk));
            assertThat(id.version()).isEqualTo(5);
            assertThat(id.variant()).isEqualTo(2);
            assertThat(seen.add(id)).isTrue();
        }
        assertThat(StoreKeys.chunkPointId("file-1", 0)).isNotEqualTo(StoreKeys.chunkPointId("file-2", 0));
    }

    @Test
    @DisplayName("Blob keys are {tenant}/{partition}/{fileId}")
    void blobKeyLayout() {
        assertThat(StoreKeys.blobKey("t1", 5, "f9")).isEqualTo("t1/5/f9");
        assertThat(StoreKeys.blobPrefix("t1", 5)).isEqualTo("t1/5/");
    }

    @Test
    @DisplayName("A file id is a UUID in canonical lower-case text; other names are not trisync's")
    void fileIdsAreCanonicalUuids() {
        assertThat(StoreKeys.isFileId(java.util.UUID.randomUUID().toString())).isTrue();
        assertThat(StoreKeys.isFileId("01a25174-0000-7000-8000-00000000beef")).isTrue();
        for (String other : new String[] {
            null,
            "",
            "notes.txt",
            "01A25174-0000-7000-8000-00000000BEEF",
            "01a25174-0000-7000-8000-00000000beef.bak",
            "imports/01a25174-0000-7000-8000-00000000beef",
            "01a251740000-7000-8000-00000000beef-",
            "01a25174-0000-7000-8000-00000000bee/"
        }) {
            assertThat(StoreKeys.isFileId(other)).as(other).isFalse();
        }
    }
}
