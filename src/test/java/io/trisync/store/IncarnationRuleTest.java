package io.trisync.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class IncarnationRuleTest {

    private static final Instant NOW = Instant.parse("2026-12-01T12:00:00Z");
    private static final Duration STALE = Duration.ofSeconds(15);

    private static Incarnation incarnation(
            String id, String cluster, String member, String host, long pid, Instant beat) {
        return new Incarnation(
                id, "node-" + id, cluster, member, host, "boot-1", "pid:[1]", pid, 1000, NOW, beat, null);
    }

    private final Incarnation me = incarnation("me", "c", "m-me", "host-a", 10, NOW);

    private static IncarnationRule rule(Incarnation observer, boolean processAlive) {
        return new IncarnationRule(observer, STALE, (pid, start) -> processAlive);
    }

    @Test
    @DisplayName("A live incarnation with a fresh heartbeat, its member present and its process running, is not gone")
    void aliveIsNotGone() {
        Incarnation other = incarnation("o", "c", "m-o", "host-a", 11, NOW.minusSeconds(5));
        assertThat(rule(me, true).goneBecause(other, NOW, Set.of("m-me", "m-o")))
                .isNull();
        assertThat(rule(me, true).goneBecause(me, NOW, Set.of()))
                .as("never itself")
                .isNull();
    }

    @Test
    @DisplayName("A clean stop makes an incarnation gone at once")
    void ended() {
        Incarnation other =
                new Incarnation("o", "n", "c", null, "host-b", null, null, 11, 0, NOW, NOW, NOW.minusSeconds(1));
        assertThat(rule(me, true).goneBecause(other, NOW, null)).contains("stopped");
    }

    @Test
    @DisplayName(
            "A member of the observer's cluster that left is gone; another cluster's members are not judged by membership")
    void memberLeft() {
        Incarnation sameCluster = incarnation("o", "c", "m-o", "host-b", 11, NOW);
        Incarnation otherCluster = incarnation("x", "other", "m-x", "host-b", 12, NOW);
        assertThat(rule(me, true).goneBecause(sameCluster, NOW, Set.of("m-me")))
                .isEqualTo("its node node-o left the cluster (member m-o)");
        assertThat(rule(me, true).goneBecause(otherCluster, NOW, Set.of("m-me")))
                .isNull();
        assertThat(rule(me, true).goneBecause(sameCluster, NOW, null))
                .as("a standalone observer knows no membership")
                .isNull();
    }

    @Test
    @DisplayName("On the same machine and pid namespace, a process that is gone makes its incarnation gone at once")
    void processGone() {
        Incarnation local = incarnation("o", null, null, "host-a", 11, NOW);
        Incarnation remote = incarnation("r", null, null, "host-b", 11, NOW);
        assertThat(rule(me, false).goneBecause(local, NOW, null)).contains("process 11");
        assertThat(rule(me, false).goneBecause(remote, NOW, null))
                .as("another machine's pid says nothing here")
                .isNull();
        assertThat(rule(me, true).goneBecause(local, NOW, null)).isNull();
    }

    @Test
    @DisplayName("A heartbeat older than the stale limit makes an incarnation gone, however alive its process looks")
    void staleHeartbeat() {
        Incarnation quiet = incarnation("o", null, null, "host-b", 11, NOW.minusSeconds(16));
        Incarnation recent = incarnation("p", null, null, "host-b", 12, NOW.minusSeconds(15));
        assertThat(rule(me, true).goneBecause(quiet, NOW, null)).contains("no heartbeat");
        assertThat(rule(me, true).goneBecause(recent, NOW, null)).isNull();
    }
}
