package io.trisync.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class StoreStateTest {

    private static final Instant NOW = Instant.parse("2026-12-06T12:00:00Z");

    private static StoreState reading(Map<String, Instant> lastScans) {
        return StoreState.of(Map.of(), List.of("synced"), Map.of(), List.of(), Map.of(), List.of(), lastScans, NOW);
    }

    @Test
    @DisplayName("With no tenant ever scanned the oldest scan age is NaN, not 0 (which reads as just scanned)")
    void noScanNoAge() {
        Map<String, Instant> never = new HashMap<>();
        never.put("alice", null);
        StoreState state = reading(never);
        assertThat(state.oldestScanAgeSeconds()).isNaN();
        assertThat(state.tenantsNeverScanned()).isEqualTo(1);
        assertThat(reading(Map.of()).oldestScanAgeSeconds()).isNaN();
    }

    @Test
    @DisplayName("The oldest scan age is the least recent latest scan's; tenants never scanned are counted apart")
    void oldestOfTheScanned() {
        Map<String, Instant> scans = new HashMap<>();
        scans.put("alice", NOW.minusSeconds(30));
        scans.put("bob", NOW.minusSeconds(90));
        scans.put("carol", null);
        StoreState state = reading(scans);
        assertThat(state.oldestScanAgeSeconds()).isEqualTo(90.0);
        assertThat(state.tenantsNeverScanned()).isEqualTo(1);
    }
}
