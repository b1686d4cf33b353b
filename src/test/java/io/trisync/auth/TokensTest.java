package io.trisync.auth;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class TokensTest {

    @Test
    @DisplayName("A duration reads exactly: one second over 30 days is not '30 d' (a lifetime refused as over a"
            + " 30 d limit read '30 d; tokens live at most 30 d')")
    void humanDurationsAreExact() {
        assertThat(Tokens.human(90)).isEqualTo("90 s");
        assertThat(Tokens.human(1800)).isEqualTo("30 min");
        assertThat(Tokens.human(12 * 3600)).isEqualTo("12 h");
        assertThat(Tokens.human(30 * 86_400)).isEqualTo("30 d");
        assertThat(Tokens.human(36_500L * 86_400)).isEqualTo("36500 d");
        assertThat(Tokens.human(30 * 86_400 + 1)).isEqualTo("30 d 1 s");
        assertThat(Tokens.human(721 * 3600)).isEqualTo("30 d 1 h");
    }
}
