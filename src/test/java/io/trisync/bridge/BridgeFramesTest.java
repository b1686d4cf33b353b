package io.trisync.bridge;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class BridgeFramesTest {

    @Test
    @DisplayName("A posted body is SockJS frames only as a JSON array of strings; anything else is named")
    void framesProblem() {
        assertThat(Bridge.framesProblem("[\"{}\"]")).isNull();
        assertThat(Bridge.framesProblem("[]")).isNull();
        assertThat(Bridge.framesProblem("")).startsWith("empty; ");
        assertThat(Bridge.framesProblem("  ")).startsWith("empty; ");
        assertThat(Bridge.framesProblem("not json")).startsWith("not JSON; ");
        assertThat(Bridge.framesProblem("[\"a\"")).startsWith("not JSON; ");
        assertThat(Bridge.framesProblem("{\"type\":\"ping\"}")).startsWith("not a JSON array; ");
        assertThat(Bridge.framesProblem("\"a\"")).startsWith("not a JSON array; ");
        assertThat(Bridge.framesProblem("[\"a\",1]")).startsWith("holds 1, which is not a string; ");
        assertThat(Bridge.framesProblem("[null]")).startsWith("holds null, which is not a string; ");
        assertThat(Bridge.framesProblem("[{\"type\":\"" + "x".repeat(100) + "\"}]"))
                .startsWith("holds {\"type\":\"" + "x".repeat(31) + "…, which");
    }
}
