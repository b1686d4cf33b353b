package io.trisync.failure;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class BreakerTest {

    private static final class Manual extends Clock {
        long millis;

        @Override
        public long millis() {
            return millis;
        }

        @Override
        public Instant instant() {
            return Instant.ofEpochMilli(millis);
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }
    }

    @Test
    @DisplayName("Only a store's unavailability opens the breaker; while open, one caller an interval probes it")
    void halfOpen() {
        Manual clock = new Manual();
        Breaker breaker = new Breaker(2_000, clock);
        breaker.record(new Failure.NotFound("s3", "x"));
        breaker.record(new IllegalStateException("bug"));
        breaker.record(new Failure.Unavailable("no store named"));
        assertThat(breaker.check()).isEqualTo(Breaker.Decision.GO);
        breaker.record(new Failure.Unavailable("qdrant", "down", null));
        assertThat(breaker.check()).isEqualTo(new Breaker.Decision("qdrant", false));
        clock.millis = 2_000;
        assertThat(breaker.check()).as("the probe is due").isEqualTo(new Breaker.Decision("qdrant", true));
        assertThat(breaker.check()).as("one probe an interval").isEqualTo(new Breaker.Decision("qdrant", false));
        clock.millis = 3_999;
        assertThat(breaker.check().probe()).isFalse();
        clock.millis = 4_000;
        assertThat(breaker.check().probe()).isTrue();
        breaker.closed("qdrant");
        assertThat(breaker.check()).as("the probe reached the store").isEqualTo(Breaker.Decision.GO);
    }
}
