package io.trisync.embedded;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.UUID;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class PartialWritesTest {

    private static final String FILE_ID = "01a2325d-a24e-790c-ac1a-dfbd20571732";

    @Test
    @DisplayName("The embedded S3 store's temporary name of an unfinished PUT is told apart from trisync's keys")
    void recognisesTemporaryNames() {
        assertThat(PartialWrites.isTemporary("t/12/" + FILE_ID + "-" + UUID.randomUUID()))
                .isTrue();
        assertThat(PartialWrites.isTemporary(FILE_ID + "-" + UUID.randomUUID())).isTrue();
        assertThat(PartialWrites.isTemporary("t/12/" + FILE_ID))
                .as("a blob key")
                .isFalse();
        assertThat(PartialWrites.isTemporary("quarantine/t/" + UUID.randomUUID()))
                .as("a quarantine key")
                .isFalse();
        assertThat(PartialWrites.isTemporary("t/12/" + FILE_ID + "-" + FILE_ID))
                .as("a version-7 suffix is no temporary name")
                .isFalse();
    }
}
