package io.trisync.search;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The two collections' rankings during a change of model, merged rank by rank. */
class InterleavedTest {

    @Test
    @DisplayName("Rank by rank, the first list first at each rank; the longer list's tail follows")
    void rankByRank() {
        assertThat(SearchVerticle.interleaved(List.of(List.of("a1", "a2", "a3", "a4"), List.of("b1", "b2"))))
                .containsExactly("a1", "b1", "a2", "b2", "a3", "a4");
        assertThat(SearchVerticle.interleaved(List.of(List.of(), List.of("b1", "b2"))))
                .containsExactly("b1", "b2");
    }

    @Test
    @DisplayName("One list is kept as it is (no change of model: the search's order is the scores')")
    void oneList() {
        assertThat(SearchVerticle.interleaved(List.of(List.of("x", "y", "z")))).containsExactly("x", "y", "z");
        assertThat(SearchVerticle.interleaved(List.<List<String>>of())).isEmpty();
    }
}
