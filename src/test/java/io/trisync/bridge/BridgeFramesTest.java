package io.trisync.bridge;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class BridgeFramesTest {

    @Test
    @DisplayName("A posted body SockJS would refuse (empty, not JSON) is named; any JSON, and a blank body, are left"
            + " to SockJS, which takes them")
    void framesProblem() {
        assertThat(Bridge.framesProblem("")).startsWith("empty; ");
        assertThat(Bridge.framesProblem("not json")).startsWith("not JSON; ");
        assertThat(Bridge.framesProblem("[\"a\"")).startsWith("not JSON; ");
        for (String taken : new String[] {"[\"{}\"]", "[]", "[1]", "{\"type\":\"ping\"}", "\"a\"", "null", "  "}) {
            assertThat(Bridge.framesProblem(taken)).as(taken).isNull();
        }
    }
}
