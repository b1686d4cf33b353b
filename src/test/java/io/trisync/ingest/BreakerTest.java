package io.trisync.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import io.trisync.failure.Failure;
import java.time.Clock;
import java.time.Instant;
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
        public java.time.ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }
    }

    @Test
    @DisplayName("Only unavailability opens the breaker, and only for its period")
    void opensAndCloses() {
        Manual clock = new Manual();
        Breaker breaker = new Breaker(10_000, clock);
        breaker.record(new Failure.NotFound("s3", "x"));
        breaker.record(new IllegalStateException("bug"));
        assertThat(breaker.openStore()).isNull();
        breaker.record(new Failure.Unavailable("qdrant", "down", null));
        assertThat(breaker.openStore()).isEqualTo("qdrant");
        assertThat(breaker.retryAfterSeconds("qdrant")).isEqualTo(10);
        clock.millis = 9_500;
        assertThat(breaker.openStore()).isEqualTo("qdrant");
        assertThat(breaker.retryAfterSeconds("qdrant")).isEqualTo(1);
        clock.millis = 10_001;
        assertThat(breaker.openStore()).isNull();
        breaker.record(new Failure.Unavailable("s3", "down", null));
        assertThat(breaker.openStore()).isEqualTo("s3");
    }
}
