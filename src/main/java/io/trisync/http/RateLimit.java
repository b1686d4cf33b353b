package io.trisync.http;

import com.hazelcast.core.HazelcastInstance;
import io.github.bucket4j.Bandwidth;
import io.github.bucket4j.BucketConfiguration;
import io.github.bucket4j.distributed.ExpirationAfterWriteStrategy;
import io.github.bucket4j.distributed.proxy.ProxyManager;
import io.github.bucket4j.grid.hazelcast.Bucket4jHazelcast;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * {@code API_RATE_LIMIT_PER_MINUTE} per caller: {@link #take} completes with 0 when the request is
 * admitted, else with the seconds to wait. A standalone node keeps a sliding minute per caller in
 * memory; a clustered one keeps one token bucket per caller in the Hazelcast cluster (Bucket4j), so
 * a token sending to every node still gets the one budget.
 */
interface RateLimit {

    Future<Long> take(String key);

    /** The limit for this node: in the cluster when {@code hazelcast} is given, else in memory. */
    static RateLimit of(Vertx vertx, HazelcastInstance hazelcast, int perMinute) {
        return hazelcast == null ? new Local(perMinute) : new Clustered(vertx, hazelcast, perMinute);
    }

    /** A sliding one-minute window per caller, in this process. */
    final class Local implements RateLimit {
        /** Callers whose recent requests are remembered (least recently seen forgotten first). */
        private static final int TRACKED = 10_000;

        private final int perMinute;
        private final Map<String, Deque<Long>> recent = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Deque<Long>> eldest) {
                return size() > TRACKED;
            }
        };

        Local(int perMinute) {
            this.perMinute = perMinute;
        }

        @Override
        public Future<Long> take(String key) {
            return Future.succeededFuture(take(key, System.currentTimeMillis()));
        }

        private synchronized long take(String key, long now) {
            Deque<Long> times = recent.computeIfAbsent(key, k -> new ArrayDeque<>());
            while (!times.isEmpty() && times.peekFirst() <= now - 60_000) {
                times.pollFirst();
            }
            if (times.size() >= perMinute) {
                return Math.max(1, (times.peekFirst() + 60_000 - now + 999) / 1000);
            }
            times.addLast(now);
            return 0;
        }
    }

    /**
     * One bucket per caller in the cluster map {@code trisync-rate-limits}: {@code perMinute} tokens,
     * all refilled each minute; a bucket untouched until it would be full again is dropped from the map.
     */
    final class Clustered implements RateLimit {
        private final Vertx vertx;
        private final ProxyManager<String> buckets;
        private final BucketConfiguration configuration;

        Clustered(Vertx vertx, HazelcastInstance hazelcast, int perMinute) {
            this.vertx = vertx;
            this.buckets = Bucket4jHazelcast.<String>entryProcessorBasedBuilder(hazelcast.getMap("trisync-rate-limits"))
                    .expirationAfterWrite(
                            ExpirationAfterWriteStrategy.basedOnTimeForRefillingBucketUpToMax(Duration.ofSeconds(10)))
                    .build();
            this.configuration = BucketConfiguration.builder()
                    .addLimit(Bandwidth.builder()
                            .capacity(perMinute)
                            .refillIntervally(perMinute, Duration.ofMinutes(1))
                            .build())
                    .build();
        }

        @Override
        public Future<Long> take(String key) {
            var context = vertx.getOrCreateContext();
            return Future.fromCompletionStage(
                            buckets.asAsync()
                                    .builder()
                                    .build(key, () -> CompletableFuture.completedFuture(configuration))
                                    .tryConsumeAndReturnRemaining(1),
                            context)
                    .map(probe -> probe.isConsumed()
                            ? 0L
                            : Math.max(1, (probe.getNanosToWaitForRefill() + 999_999_999) / 1_000_000_000));
        }
    }
}
