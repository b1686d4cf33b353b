package io.trisync.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class TimeoutPolicyTest {

    private final TimeoutPolicy seeds = new TimeoutPolicy(300, 10, 300, 7200);

    @Test
    @DisplayName("base + files x perFile between the clamps")
    void linearBetweenClamps() {
        assertThat(seeds.expectedSeconds(1)).isEqualTo(310);
        assertThat(seeds.expectedSeconds(20)).isEqualTo(500);
        assertThat(seeds.expectedSeconds(689)).isEqualTo(7190);
    }

    @Test
    @DisplayName("At and around the lower clamp")
    void lowerClamp() {
        TimeoutPolicy p = new TimeoutPolicy(100, 10, 300, 7200);
        assertThat(p.expectedSeconds(0)).isEqualTo(300);
        assertThat(p.expectedSeconds(19)).isEqualTo(300);
        assertThat(p.expectedSeconds(20)).isEqualTo(300);
        assertThat(p.expectedSeconds(21)).isEqualTo(310);
        assertThat(p.expectedSeconds(-5)).isEqualTo(300);
        assertThat(seeds.expectedSeconds(0)).isEqualTo(300);
    }

    @Test
    @DisplayName("At and around the upper clamp, without overflow")
    void upperClamp() {
        assertThat(seeds.expectedSeconds(689)).isEqualTo(7190);
        assertThat(seeds.expectedSeconds(690)).isEqualTo(7200);
        assertThat(seeds.expectedSeconds(691)).isEqualTo(7200);
        assertThat(seeds.expectedSeconds(Long.MAX_VALUE)).isEqualTo(7200);
    }

    @Test
    @DisplayName("A minimum above the maximum is refused")
    void invalid() {
        assertThatThrownBy(() -> new TimeoutPolicy(1, 1, 10, 5)).isInstanceOf(IllegalArgumentException.class);
    }
}
