package io.trisync.config;

import static io.trisync.config.ConfigKey.Type.BOOLEAN;
import static io.trisync.config.ConfigKey.Type.NON_NEGATIVE_INT;
import static io.trisync.config.ConfigKey.Type.PORT;
import static io.trisync.config.ConfigKey.Type.POSITIVE_INT;
import static io.trisync.config.ConfigKey.Type.STRING;

import java.util.List;

/** Every configuration key trisync reads. Defaults live in {@code conf/config.json}. */
public final class ConfigKeys {

    public static final List<ConfigKey> ALL = List.of(
            new ConfigKey("HTTP_PORT", "http.port", PORT, "port of the public HTTP server (0: any free port)"),
            new ConfigKey(
                    "HTTP_INSTANCES",
                    "http.instances",
                    NON_NEGATIVE_INT,
                    "instances of the HTTP/bridge and ingest verticles, each on its own event loop (0: one per core)"),
            new ConfigKey(
                    "HTTP_IDLE_TIMEOUT_SECONDS",
                    "http.idleTimeoutSeconds",
                    POSITIVE_INT,
                    "a request that sends nothing for this long (headers or body) is answered 408 and its connection closed"),
            new ConfigKey(
                    "HTTP_MIN_BODY_BYTES_PER_SECOND",
                    "http.minBodyBytesPerSecond",
                    NON_NEGATIVE_INT,
                    "a request body that arrives slower than this, over the last HTTP_MIN_BODY_RATE_WINDOW_SECONDS, is answered 408 and its connection closed (0: no minimum)"),
            new ConfigKey(
                    "HTTP_MIN_BODY_RATE_WINDOW_SECONDS",
                    "http.minBodyRateWindowSeconds",
                    POSITIVE_INT,
                    "the window the body rate is averaged over, and the grace before it is first checked"),
            new ConfigKey("DATA_DIR", "dataDir", STRING, "where the embedded stores persist"),
            new ConfigKey("NODE_ID", "nodeId", STRING, "this node's name in logs and records (blank: random)"),
            new ConfigKey(
                    "NODE_ROLES",
                    "nodeRoles",
                    STRING,
                    "which capabilities this node runs, comma-separated: `http` (REST API, bridge, event reads),"
                            + " `ingest`, `scan`, `repair`, `monitor` (tracked-operation requests and the stuck monitor)"),
            new ConfigKey("MONGO_URI", "mongo.uri", STRING, "MongoDB connection string (blank: embedded)"),
            new ConfigKey("MONGO_DB", "mongo.db", STRING, "MongoDB database name"),
            new ConfigKey(
                    "MONGO_WRITE_CONCERN",
                    "mongo.writeConcern",
                    STRING,
                    "write concern of every write to a real MongoDB, always with journal: `majority` or a number of members"),
            new ConfigKey("S3_ENDPOINT", "s3.endpoint", STRING, "S3 endpoint URL (blank: embedded)"),
            new ConfigKey("S3_REGION", "s3.region", STRING, "S3 region"),
            new ConfigKey("S3_ACCESS_KEY", "s3.accessKey", STRING, "S3 access key"),
            new ConfigKey("S3_SECRET_KEY", "s3.secretKey", STRING, "S3 secret key"),
            new ConfigKey("S3_BUCKET", "s3.bucket", STRING, "bucket holding file content"),
            new ConfigKey(
                    "S3_MULTIPART_THRESHOLD_BYTES",
                    "s3.multipartThresholdBytes",
                    POSITIVE_INT,
                    "uploads at least this large use multipart (min 5 MiB)"),
            new ConfigKey("QDRANT_HOST", "qdrant.host", STRING, "Qdrant gRPC host (blank: embedded)"),
            new ConfigKey("QDRANT_PORT", "qdrant.port", PORT, "Qdrant gRPC port"),
            new ConfigKey("QDRANT_API_KEY", "qdrant.apiKey", STRING, "Qdrant API key (blank: none)"),
            new ConfigKey("QDRANT_USE_TLS", "qdrant.useTls", BOOLEAN, "use TLS to reach Qdrant"),
            new ConfigKey("QDRANT_COLLECTION", "qdrant.collection", STRING, "collection holding chunk vectors"),
            new ConfigKey("QDRANT_VECTOR_SIZE", "qdrant.vectorSize", POSITIVE_INT, "dimension of the chunk vectors"),
            new ConfigKey(
                    "EMBEDDING_PROVIDER",
                    "embedding.provider",
                    STRING,
                    "`local` (all-MiniLM-L6-v2 in process) or `openai` (any OpenAI-compatible `POST {url}/embeddings`)"),
            new ConfigKey(
                    "EMBEDDING_URL",
                    "embedding.url",
                    STRING,
                    "base URL of the OpenAI-compatible embedding service (the client posts to `{url}/embeddings`)"),
            new ConfigKey(
                    "EMBEDDING_MODEL",
                    "embedding.model",
                    STRING,
                    "the provider's model name; recorded on files and points with the dimension (`name@dimension`)"),
            new ConfigKey(
                    "EMBEDDING_API_KEY", "embedding.apiKey", STRING, "bearer token for the provider (blank: none)"),
            new ConfigKey(
                    "EMBEDDING_DIMENSIONS",
                    "embedding.dimensions",
                    POSITIVE_INT,
                    "dimension of the provider's vectors (must equal QDRANT_VECTOR_SIZE; 384 for `local`)"),
            new ConfigKey("EMBEDDING_BATCH_SIZE", "embedding.batchSize", POSITIVE_INT, "chunks sent in one request"),
            new ConfigKey(
                    "EMBEDDING_TIMEOUT_SECONDS",
                    "embedding.timeoutSeconds",
                    POSITIVE_INT,
                    "a request to the provider that takes longer is retried"),
            new ConfigKey(
                    "REINDEX_TARGET_BATCH_MS",
                    "embedding.reindexTargetBatchMs",
                    POSITIVE_INT,
                    "a re-index sizes its batches of files so that one takes about this long"),
            new ConfigKey(
                    "EMBEDDING_MODEL_CHANGE",
                    "embedding.modelChange",
                    STRING,
                    "`side_by_side`: a new model of the same dimension fills a collection of its own while the old one serves search, until a re-index switches; `in_place`: it re-embeds in the serving collection (no second copy; search finds only re-embedded files until the re-index ends)"),
            new ConfigKey(
                    "EMBEDDING_MAX_CONCURRENCY",
                    "embedding.maxConcurrency",
                    POSITIVE_INT,
                    "requests to the provider in flight at once from one node"),
            new ConfigKey(
                    "EMBEDDED_PERSIST",
                    "embedded.persist",
                    BOOLEAN,
                    "embedded stores persist under DATA_DIR (false: in memory)"),
            new ConfigKey(
                    "EMBEDDED_MONGO_PORT", "embedded.mongoPort", PORT, "port of the embedded MongoDB-wire server"),
            new ConfigKey("EMBEDDED_S3_PORT", "embedded.s3Port", PORT, "port of the embedded S3-API server"),
            new ConfigKey(
                    "EMBEDDED_QDRANT_PORT", "embedded.qdrantPort", PORT, "port of the embedded Qdrant gRPC server"),
            new ConfigKey(
                    "EMBEDDED_MONGO_FSYNC",
                    "embedded.mongoFsync",
                    BOOLEAN,
                    "the embedded MongoDB forces each commit to the device (survives power loss, not only a process crash)"),
            new ConfigKey(
                    "INGEST_MAX_FILE_BYTES",
                    "ingest.maxFileBytes",
                    POSITIVE_INT,
                    "largest upload accepted (413 above)"),
            new ConfigKey(
                    "INGEST_ANSWER_WITHIN_SECONDS",
                    "ingest.answerWithinSeconds",
                    POSITIVE_INT,
                    "seconds an upload or new version may take before its request is answered 202 `completing` with the file's id (its operation finishes it); the same on every node"),
            new ConfigKey(
                    "INGEST_RECOVERY_INTERVAL_SECONDS",
                    "ingest.recoveryIntervalSeconds",
                    POSITIVE_INT,
                    "seconds between recovery sweeps of unfinished operations"),
            new ConfigKey(
                    "INGEST_RECOVERY_GRACE_SECONDS",
                    "ingest.recoveryGraceSeconds",
                    POSITIVE_INT,
                    "an unfinished operation untouched this long is recovered by any node"),
            new ConfigKey(
                    "METRICS_STORE_REFRESH_SECONDS",
                    "metrics.storeRefreshSeconds",
                    NON_NEGATIVE_INT,
                    "`/metrics` reads the stores' state (files, open issues, drift, scan ages) again at most this often (0: on every scrape)"),
            new ConfigKey(
                    "SEARCH_BLOB_RECHECK_SECONDS",
                    "search.blobRecheckSeconds",
                    NON_NEGATIVE_INT,
                    "a search HEADs a result's blob again once its last matching check is this old (0: on every search)"),
            new ConfigKey(
                    "RETENTION_INGEST_OPERATIONS_DAYS",
                    "retention.ingestOperationsDays",
                    NON_NEGATIVE_INT,
                    "days an ended upload or delete operation, and the idempotency key that names it, are kept (0: for ever)"),
            new ConfigKey(
                    "RETENTION_SYNC_OPERATIONS_DAYS",
                    "retention.syncOperationsDays",
                    NON_NEGATIVE_INT,
                    "days an ended tracked operation is kept with its repair actions and re-index checkpoints (0: for ever)"),
            new ConfigKey(
                    "RETENTION_EVENTS_DAYS",
                    "retention.eventsDays",
                    NON_NEGATIVE_INT,
                    "days an event stays in the event log that browsers replay from (0: for ever)"),
            new ConfigKey(
                    "RETENTION_TOMBSTONES_DAYS",
                    "retention.tombstonesDays",
                    NON_NEGATIVE_INT,
                    "days the record of a deleted file (its tombstone) is kept (0: for ever)"),
            new ConfigKey(
                    "RETENTION_SWEEP_INTERVAL_SECONDS",
                    "retention.sweepIntervalSeconds",
                    POSITIVE_INT,
                    "seconds between retention sweeps"),
            new ConfigKey(
                    "SYNC_PARTITIONS",
                    "sync.partitions",
                    POSITIVE_INT,
                    "partitions per tenant (P); fixed once data exists (recorded by the first node; another count refuses to start)"),
            new ConfigKey(
                    "SYNC_CHECK_INTERVAL",
                    "sync.checkIntervalMinutes",
                    POSITIVE_INT,
                    "minutes between periodic checks of each tenant"),
            new ConfigKey(
                    "SYNC_BATCH_SIZE",
                    "sync.batchSize",
                    POSITIVE_INT,
                    "items per store batch in scans, repairs and erasures"),
            new ConfigKey(
                    "SYNC_TIMEOUT",
                    "sync.requestTimeoutSeconds",
                    POSITIVE_INT,
                    "seconds an event-bus request to a sync verticle may take"),
            new ConfigKey(
                    "SYNC_BASE_TIMEOUT_SECONDS",
                    "sync.baseTimeoutSeconds",
                    NON_NEGATIVE_INT,
                    "base of an operation's expected duration"),
            new ConfigKey(
                    "SYNC_PER_FILE_TIMEOUT_SECONDS",
                    "sync.perFileTimeoutSeconds",
                    NON_NEGATIVE_INT,
                    "expected seconds per file of an operation"),
            new ConfigKey(
                    "SYNC_MIN_TIMEOUT_SECONDS",
                    "sync.minTimeoutSeconds",
                    POSITIVE_INT,
                    "lower clamp of an operation's expected duration"),
            new ConfigKey(
                    "SYNC_MAX_TIMEOUT_SECONDS",
                    "sync.maxTimeoutSeconds",
                    POSITIVE_INT,
                    "upper clamp of an operation's expected duration"),
            new ConfigKey(
                    "SYNC_HEARTBEAT_INTERVAL_SECONDS",
                    "sync.heartbeatIntervalSeconds",
                    POSITIVE_INT,
                    "seconds between an operation's heartbeats"),
            new ConfigKey(
                    "SYNC_CLEANUP_INTERVAL_SECONDS",
                    "sync.cleanupIntervalSeconds",
                    POSITIVE_INT,
                    "seconds between stuck-operation sweeps"),
            new ConfigKey(
                    "SYNC_SCAN_PARALLELISM",
                    "sync.scanParallelism",
                    POSITIVE_INT,
                    "partitions of one scan in flight at once (spread over the cluster's nodes)"),
            new ConfigKey(
                    "SYNC_AUTO_REPAIR",
                    "repair.autoRepair",
                    BOOLEAN,
                    "after a periodic scan, and after a search that recorded issues for hits it left out, apply the repairs that need no person"),
            new ConfigKey(
                    "SYNC_QUARANTINE_RETENTION_DAYS",
                    "repair.quarantineRetentionDays",
                    NON_NEGATIVE_INT,
                    "days a quarantined object is kept before a purge may remove it"),
            new ConfigKey(
                    "SYNC_BACKUP_PREFIX",
                    "repair.backupPrefix",
                    STRING,
                    "key prefix in the bucket holding blob backups, used to restore missing content (blank: none)"),
            new ConfigKey(
                    "WEBSOCKET_PING_INTERVAL",
                    "events.websocketPingIntervalSeconds",
                    POSITIVE_INT,
                    "seconds between SockJS heartbeats"),
            new ConfigKey(
                    "EVENT_QUEUE_SIZE", "events.queueSize", POSITIVE_INT, "events kept per tenant in the event log"),
            new ConfigKey(
                    "AUTH_ENABLED",
                    "auth.enabled",
                    BOOLEAN,
                    "every /api route and the event-bus bridge require a JWT bearer token"),
            new ConfigKey(
                    "AUTH_JWT_SECRET",
                    "auth.jwtSecret",
                    STRING,
                    "HS256 secret of the tokens (blank: generated once under DATA_DIR; only allowed when every store is embedded)"),
            new ConfigKey(
                    "AUTH_JWKS_FILE",
                    "auth.jwksFile",
                    STRING,
                    "JSON Web Key Set of an identity provider whose tokens (RS256, ES256…) are accepted too (blank: none)"),
            new ConfigKey(
                    "AUTH_MAX_TOKEN_LIFETIME_SECONDS",
                    "auth.maxTokenLifetimeSeconds",
                    POSITIVE_INT,
                    "longest lifetime a token may have (exp - iat, or exp - now without iat); a longer one is refused 401, and the token command issues none longer"),
            new ConfigKey(
                    "API_RATE_LIMIT_PER_MINUTE",
                    "auth.rateLimitPerMinute",
                    POSITIVE_INT,
                    "REST requests per token (per client address without auth) per minute; 429 above"),
            new ConfigKey(
                    "CORS_ALLOWED_ORIGINS",
                    "auth.corsAllowedOrigins",
                    STRING,
                    "comma-separated origins allowed to call the REST API from a browser (blank: none)"),
            new ConfigKey(
                    "BRIDGE_MAX_MESSAGE_BYTES",
                    "events.bridgeMaxMessageBytes",
                    POSITIVE_INT,
                    "largest frame a browser may send over the event-bus bridge; its socket is closed above"),
            new ConfigKey(
                    "BRIDGE_MAX_MESSAGES_PER_SECOND",
                    "events.bridgeMaxMessagesPerSecond",
                    POSITIVE_INT,
                    "frames per second a browser socket may send; its socket is closed above"),
            new ConfigKey(
                    "BRIDGE_MAX_HANDLERS",
                    "events.bridgeMaxHandlers",
                    POSITIVE_INT,
                    "addresses one browser socket may register"),
            new ConfigKey("CLUSTER_HOST", "cluster.host", STRING, "address the clustered event bus binds to"),
            new ConfigKey("CLUSTER_NAME", "cluster.name", STRING, "Hazelcast cluster name; nodes join only their own"));

    private ConfigKeys() {}
}
