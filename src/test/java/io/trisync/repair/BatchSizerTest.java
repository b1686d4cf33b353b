package io.trisync.repair;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class BatchSizerTest {

    @Test
    @DisplayName("Grows while batches are quick, settles near the target, halves when they get slow, stays in bounds")
    void adapts() {
        BatchSizer sizer = new BatchSizer(1000, 1, 256, 8);
        // 10 ms a file: 8 files take 80 ms (quick) ... until a batch takes about the target.
        int size = sizer.size();
        for (int i = 0; i < 10; i++) {
            size = sizer.took(size, size * 10L);
        }
        assertThat(size).as("settled size at 10 ms a file, target 1 s").isEqualTo(64);
        assertThat(sizer.took(64, 640)).as("within the band: stays").isEqualTo(64);
        assertThat(sizer.took(64, 2000)).as("the service slowed down: halves").isEqualTo(32);
        for (int i = 0; i < 20; i++) {
            sizer.took(sizer.size(), 10_000);
        }
        assertThat(sizer.size()).isEqualTo(1);
        for (int i = 0; i < 20; i++) {
            sizer.took(sizer.size(), 0);
        }
        assertThat(sizer.size()).isEqualTo(256);
        assertThat(sizer.took(3, 0)).as("a short last batch changes nothing").isEqualTo(256);
        assertThatThrownBy(() -> new BatchSizer(1000, 0, 1, 1)).isInstanceOf(IllegalArgumentException.class);
    }
}
