package io.trisync.store;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.UUID;

/**
 * How the three stores key one file (docs/design.md, "Keys and partitions"): its partition, its S3 object key and the point
 * id of each of its chunks. Every derivation is stable across nodes, restarts and versions.
 */
public final class StoreKeys {

    private StoreKeys() {}

    /** Where quarantined objects are held: {@code quarantine~/{tenant}/{id}} (a prefix no tenant id can take). */
    public static final String QUARANTINE_PREFIX = "quarantine~/";

    /** The prefix of a tenant's quarantined objects. */
    public static String quarantinePrefix(String tenantId) {
        return QUARANTINE_PREFIX + tenantId + "/";
    }

    /**
     * Where the content of a file's new version waits until the version commits: {@code
     * staging~/{tenant}/{opId}} (outside the tenant's prefix, so no scan takes it for a file).
     */
    public static final String STAGING_PREFIX = "staging~/";

    /** Where a file's previous versions are retained: {@code versions~/{tenant}/{fileId}/{version}}. */
    public static final String VERSIONS_PREFIX = "versions~/";

    /** The prefix of a tenant's staged new versions. */
    public static String stagingPrefix(String tenantId) {
        return STAGING_PREFIX + tenantId + "/";
    }

    /** The key the content of new version operation {@code opId} is staged under. */
    public static String stagingKey(String tenantId, String opId) {
        return stagingPrefix(tenantId) + opId;
    }

    /** The prefix of a tenant's retained previous versions. */
    public static String versionsPrefix(String tenantId) {
        return VERSIONS_PREFIX + tenantId + "/";
    }

    /** The prefix of one file's retained previous versions. */
    public static String fileVersionsPrefix(String tenantId, String fileId) {
        return versionsPrefix(tenantId) + fileId + "/";
    }

    /** The key of content version {@code version} of a file once a newer version replaced it. */
    public static String versionKey(String tenantId, String fileId, long version) {
        return fileVersionsPrefix(tenantId, fileId) + version;
    }

    /** The partition of {@code fileId}: the first 4 bytes of its SHA-256, unsigned, modulo {@code partitions}. */
    public static int partition(String fileId, int partitions) {
        return (int) (partitionHash(fileId) % partitions);
    }

    /** The first 4 bytes of {@code fileId}'s SHA-256, unsigned: its partition among any count is this modulo the count. */
    public static long partitionHash(String fileId) {
        byte[] digest = sha256(fileId.getBytes(StandardCharsets.UTF_8));
        return ((digest[0] & 0xFFL) << 24)
                | ((digest[1] & 0xFFL) << 16)
                | ((digest[2] & 0xFFL) << 8)
                | (digest[3] & 0xFFL);
    }

    /** The S3 key prefix of one (tenant, partition): {@code {tenantId}/{partition}/}. */
    public static String blobPrefix(String tenantId, int partition) {
        return tenantId + "/" + partition + "/";
    }

    /**
     * Whether {@code id} is a file id of the form this service makes (a UUID in its canonical
     * lower-case text, as {@code ingest.FileIds} writes them). An object under a tenant's partition
     * prefix whose name is anything else (a nested key, {@code notes.txt}) was not written by this
     * service: scans report it apart and repairs never touch it.
     */
    public static boolean isFileId(String id) {
        if (id == null || id.length() != 36) {
            return false;
        }
        for (int i = 0; i < 36; i++) {
            char c = id.charAt(i);
            boolean ok = i == 8 || i == 13 || i == 18 || i == 23
                    ? c == '-'
                    : (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    /** The S3 key of a file's content: {@code {tenantId}/{partition}/{fileId}}. */
    public static String blobKey(String tenantId, int partition, String fileId) {
        return blobPrefix(tenantId, partition) + fileId;
    }

    /**
     * The Qdrant point id of chunk {@code chunk} of {@code fileId}: a name-based UUID (version 5
     * layout, SHA-1 of a fixed namespace, the file id and the chunk number).
     */
    public static UUID chunkPointId(String fileId, int chunk) {
        byte[] hash = sha1(("trisync:chunk:" + fileId + "#" + chunk).getBytes(StandardCharsets.UTF_8));
        hash[6] &= 0x0f;
        hash[6] |= 0x50;
        hash[8] &= 0x3f;
        hash[8] |= (byte) 0x80;
        long msb = 0;
        long lsb = 0;
        for (int i = 0; i < 8; i++) {
            msb = (msb << 8) | (hash[i] & 0xff);
            lsb = (lsb << 8) | (hash[i + 8] & 0xff);
        }
        return new UUID(msb, lsb);
    }

    /** The lowercase hex SHA-256 of {@code bytes}, as blobs' {@code sha256} metadata and records carry it. */
    public static String sha256Hex(byte[] bytes) {
        return HexFormat.of().formatHex(sha256(bytes));
    }

    private static byte[] sha256(byte[] input) {
        return sha256Digest().digest(input);
    }

    /** A new SHA-256 digest, to hash content that arrives in pieces. */
    public static MessageDigest sha256Digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required by the JVM specification", e);
        }
    }

    private static byte[] sha1(byte[] input) {
        return digest("SHA-1", input);
    }

    private static byte[] digest(String algorithm, byte[] input) {
        try {
            return MessageDigest.getInstance(algorithm).digest(input);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(algorithm + " is required by the JVM specification", e);
        }
    }
}
