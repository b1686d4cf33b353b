package io.trisync.config;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/**
 * The node's whole configuration, built once at start by {@link ConfigLoader} and passed to
 * verticles and adapters through their constructors. Blank store addresses mean "embedded".
 */
public record TrisyncConfig(
        int httpPort,
        int httpInstances,
        int httpIdleTimeoutSeconds,
        int httpMinBodyBytesPerSecond,
        int httpMinBodyRateWindowSeconds,
        Path dataDir,
        String nodeId,
        Set<String> nodeRoles,
        MongoConfig mongo,
        S3Config s3,
        QdrantConfig qdrant,
        EmbeddingConfig embedding,
        EmbeddedConfig embedded,
        IngestConfig ingest,
        SyncConfig sync,
        EventsConfig events,
        RepairConfig repair,
        AuthConfig auth,
        MetricsConfig metrics,
        SearchConfig search,
        RetentionConfig retention,
        String clusterHost,
        String clusterName) {

    /** Every role a node may run ({@code NODE_ROLES}); a node runs all of them unless told otherwise. */
    public static final List<String> ROLES = List.of("http", "ingest", "scan", "repair", "monitor");

    /** Whether this node runs {@code role} (one of {@link #ROLES}). */
    public boolean runs(String role) {
        return nodeRoles.contains(role);
    }

    /** Instances of the HTTP/bridge and ingest verticles: {@code HTTP_INSTANCES}, or one per core when 0. */
    public int verticleInstances() {
        return httpInstances > 0 ? httpInstances : Runtime.getRuntime().availableProcessors();
    }

    /**
     * MongoDB: {@code uri} blank means the embedded MongoDB-wire server; {@code writeConcern} is the
     * {@code w} of every write to a real MongoDB ({@code majority} or a number), always journaled.
     */
    public record MongoConfig(String uri, String db, String writeConcern) {
        public boolean embedded() {
            return uri.isBlank();
        }
    }

    /** S3: {@code endpoint} blank means the embedded S3-API server. */
    public record S3Config(
            String endpoint,
            String region,
            String accessKey,
            String secretKey,
            String bucket,
            long multipartThresholdBytes) {
        public boolean embedded() {
            return endpoint.isBlank();
        }
    }

    /** Qdrant gRPC: {@code host} blank means the embedded Qdrant gRPC server. */
    public record QdrantConfig(
            String host, int port, String apiKey, boolean useTls, String collection, int vectorSize) {
        public boolean embedded() {
            return host.isBlank();
        }
    }

    /**
     * The embedding provider: {@code local} (the in-process model) or {@code openai} (an
     * OpenAI-compatible HTTP service at {@code url}).
     */
    public record EmbeddingConfig(
            String provider,
            String url,
            String model,
            String apiKey,
            int dimensions,
            int batchSize,
            int timeoutSeconds,
            int maxConcurrency,
            int reindexTargetBatchMs,
            String modelChange) {
        public static final String LOCAL = "local";
        public static final String OPENAI = "openai";

        /** {@code EMBEDDING_MODEL_CHANGE}: a new model of the same dimension fills a collection of its own while the old one serves. */
        public static final String SIDE_BY_SIDE = "side_by_side";
        /** {@code EMBEDDING_MODEL_CHANGE}: a new model of the same dimension re-embeds in the serving collection. */
        public static final String IN_PLACE = "in_place";

        /** The name the local model (all-MiniLM-L6-v2, quantised) records on files and points. */
        public static final String LOCAL_MODEL = "all-minilm-l6-v2-q";

        public boolean local() {
            return LOCAL.equals(provider);
        }

        /** The model identity recorded on files and points: the local model's name, or {@code model@dimensions}. */
        public String modelName() {
            return local() ? LOCAL_MODEL : model + "@" + dimensions;
        }

        /** Whether a model change of the same dimension fills a new collection beside the serving one. */
        public boolean sideBySide() {
            return SIDE_BY_SIDE.equals(modelChange);
        }
    }

    /** The embedded stack of the default run. */
    public record EmbeddedConfig(boolean persist, int mongoPort, int s3Port, int qdrantPort, boolean mongoFsync) {}

    /** Uploads, deletes and their recovery. */
    public record IngestConfig(
            long maxFileBytes, int recoveryIntervalSeconds, int recoveryGraceSeconds, int answerWithinSeconds) {}

    /** Tracked sync operations and scans. */
    public record SyncConfig(
            int partitions,
            int checkIntervalMinutes,
            int batchSize,
            int requestTimeoutSeconds,
            int baseTimeoutSeconds,
            int perFileTimeoutSeconds,
            int minTimeoutSeconds,
            int maxTimeoutSeconds,
            int heartbeatIntervalSeconds,
            int cleanupIntervalSeconds,
            int scanParallelism) {}

    /**
     * Repairs: whether periodic scans apply the repairs that need no person, how long quarantined
     * objects are kept before an explicit purge may remove them, and where backups of blobs live
     * (a key prefix in the bucket, blank: none).
     */
    public record RepairConfig(boolean autoRepair, int quarantineRetentionDays, String backupPrefix) {
        public boolean hasBackup() {
            return !backupPrefix.isBlank();
        }
    }

    /** {@code /metrics}: the stores' state (files, issues, drift) is read again at most this often. */
    public record MetricsConfig(int storeRefreshSeconds) {}

    /**
     * Search: a result's blob is HEADed again (to catch content replaced behind trisync's back) once
     * its last matching check is {@code blobRecheckSeconds} old; 0: on every search.
     */
    public record SearchConfig(int blobRecheckSeconds) {}

    /**
     * How long ended records are kept before the retention sweep removes them (0: kept for ever):
     * ended ingest operations and their idempotency keys, ended tracked operations with their repair
     * actions and re-index checkpoints, events, and the records of deleted files (tombstones). Nothing
     * an unfinished operation or a quarantined object still needs is removed.
     */
    public record RetentionConfig(
            int ingestOperationsDays,
            int syncOperationsDays,
            int eventsDays,
            int tombstonesDays,
            int sweepIntervalSeconds) {}

    /** Browser events and the limits of the event-bus bridge. */
    public record EventsConfig(
            int queueSize,
            int websocketPingIntervalSeconds,
            int bridgeMaxMessageBytes,
            int bridgeMaxMessagesPerSecond,
            int bridgeMaxHandlers) {}

    /** Authentication of the public surface, per-token rate limit and CORS. */
    public record AuthConfig(
            boolean enabled,
            String jwtSecret,
            String jwksFile,
            int rateLimitPerMinute,
            List<String> corsAllowedOrigins,
            int maxTokenLifetimeSeconds) {}

    /** True when at least one store runs embedded in this process. */
    public boolean needsEmbeddedStack() {
        return mongo.embedded() || s3.embedded() || qdrant.embedded();
    }
}
