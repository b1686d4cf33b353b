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
                .put("_id", id)
                .put("nodeId", nodeId)
                .put("clusterName", clusterName)
                .put("clusterNodeId", clusterNodeId)
                .put("host", host)
                .put("bootId", bootId)
                .put("pidNamespace", pidNamespace)
                .put("pid", pid)
                .put("processStartMillis", processStartMillis)
                .put("startedAt", Dates.toBson(startedAt))
                .put("heartbeatAt", Dates.toBson(heartbeatAt))
                .put("endedAt", Dates.toBson(endedAt));
    }

    public static Incarnation fromDocument(JsonObject d) {
        return new Incarnation(
                d.getString("_id"),
                d.getString("nodeId"),
                d.getString("clusterName"),
                d.getString("clusterNodeId"),
                d.getString("host"),
                d.getString("bootId"),
                d.getString("pidNamespace"),
                d.getLong("pid", 0L),
                d.getLong("processStartMillis", 0L),
                Dates.fromBson(d.getValue("startedAt")),
                Dates.fromBson(d.getValue("heartbeatAt")),
                Dates.fromBson(d.getValue("endedAt")));
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
