package io.trisync.search;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class VerifiedBlobsTest {

    @Test
    @DisplayName("A matched blob is fresh for the recheck period, for the ETag it matched only")
    void freshForThePeriod() {
        VerifiedBlobs v = new VerifiedBlobs(30_000, 10);
        assertThat(v.fresh("k", "e1", 0)).isFalse();
        v.matched("k", "e1", 1_000);
        assertThat(v.fresh("k", "e1", 30_999)).isTrue();
        assertThat(v.fresh("k", "e1", 31_000)).isFalse();
        assertThat(v.fresh("k", "e2", 2_000)).as("the record names new content").isFalse();
    }

    @Test
    @DisplayName("A blob found different is forgotten; period 0 checks every time; capacity bounds it")
    void differedZeroAndCapacity() {
        VerifiedBlobs v = new VerifiedBlobs(30_000, 2);
        v.matched("a", "e", 0);
        v.differed("a");
        assertThat(v.fresh("a", "e", 1)).isFalse();
        v.matched("a", "e", 0);
        v.matched("b", "e", 0);
        v.matched("c", "e", 0);
        assertThat(v.fresh("a", "e", 1)).as("the least recently used went").isFalse();
        assertThat(v.fresh("c", "e", 1)).isTrue();
        VerifiedBlobs always = new VerifiedBlobs(0, 10);
        always.matched("a", "e", 0);
        assertThat(always.fresh("a", "e", 0)).isFalse();
    }
}
