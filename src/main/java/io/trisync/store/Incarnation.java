package io.trisync.store;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Objects;
import java.util.UUID;

/**
 * One life of one node (MongoDB {@code node_incarnations}): a new id at every start, where it runs
 * (host, boot, process namespace, pid and the process's start time, so a node on the same machine can
 * tell at once whether the process is gone) and its cluster identity. Unfinished work records the
 * incarnation holding it; {@link IncarnationRule} says when that holder is gone.
 */
public record Incarnation(
        String id,
        String nodeId,
        String clusterName,
        String clusterNodeId,
        String host,
        String bootId,
        String pidNamespace,
        long pid,
        long processStartMillis,
        Instant startedAt,
        Instant heartbeatAt,
        Instant endedAt) {

    /** The document's field names. */
    public static final String ID = "_id";

    public static final String NODE_ID = "nodeId";
    public static final String CLUSTER_NAME = "clusterName";
    public static final String CLUSTER_NODE_ID = "clusterNodeId";
    public static final String HOST = "host";
    public static final String BOOT_ID = "bootId";
    public static final String PID_NAMESPACE = "pidNamespace";
    public static final String PID = "pid";
    public static final String PROCESS_START_MILLIS = "processStartMillis";
    public static final String STARTED_AT = "startedAt";
    public static final String HEARTBEAT_AT = "heartbeatAt";
    public static final String ENDED_AT = "endedAt";

    public Incarnation {
        Objects.requireNonNull(id, "id");
    }

    /** This process's new incarnation for node {@code nodeId}; {@code clusterNodeId} null when standalone. */
    public static Incarnation ofThisProcess(String nodeId, String clusterName, String clusterNodeId) {
        ProcessHandle self = ProcessHandle.current();
        Instant now = Instant.now();
        return new Incarnation(
                UUID.randomUUID().toString(),
                nodeId,
                clusterName,
                clusterNodeId,
                hostName(),
                read(Path.of("/proc/sys/kernel/random/boot_id")),
                currentPidNamespace(),
                self.pid(),
                self.info().startInstant().map(Instant::toEpochMilli).orElse(0L),
                now,
                now,
                null);
    }

    /** True when {@code other} runs where this process can see its pid: same host, boot and pid namespace. */
    public boolean sharesProcessSpaceWith(Incarnation other) {
        return host != null
                && bootId != null
                && pidNamespace != null
                && host.equals(other.host)
                && bootId.equals(other.bootId)
                && pidNamespace.equals(other.pidNamespace);
    }

    public JsonObject toDocument() {
        return new JsonObject()
                .put(ID, id)
                .put(NODE_ID, nodeId)
                .put(CLUSTER_NAME, clusterName)
                .put(CLUSTER_NODE_ID, clusterNodeId)
                .put(HOST, host)
                .put(BOOT_ID, bootId)
                .put(PID_NAMESPACE, pidNamespace)
                .put(PID, pid)
                .put(PROCESS_START_MILLIS, processStartMillis)
                .put(STARTED_AT, Dates.toBson(startedAt))
                .put(HEARTBEAT_AT, Dates.toBson(heartbeatAt))
                .put(ENDED_AT, Dates.toBson(endedAt));
    }

    public static Incarnation fromDocument(JsonObject d) {
        return new Incarnation(
                d.getString(ID),
                d.getString(NODE_ID),
                d.getString(CLUSTER_NAME),
                d.getString(CLUSTER_NODE_ID),
                d.getString(HOST),
                d.getString(BOOT_ID),
                d.getString(PID_NAMESPACE),
                d.getLong(PID, 0L),
                d.getLong(PROCESS_START_MILLIS, 0L),
                Dates.fromBson(d.getValue(STARTED_AT)),
                Dates.fromBson(d.getValue(HEARTBEAT_AT)),
                Dates.fromBson(d.getValue(ENDED_AT)));
    }

    private static String hostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return null;
        }
    }

    private static String currentPidNamespace() {
        try {
            return Files.readSymbolicLink(Path.of("/proc/self/ns/pid")).toString();
        } catch (IOException | UnsupportedOperationException e) {
            return null;
        }
    }

    private static String read(Path file) {
        try {
            return Files.readString(file).trim();
        } catch (IOException e) {
            return null;
        }
    }
}
