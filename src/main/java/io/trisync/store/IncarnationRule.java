package io.trisync.store;

import java.time.Duration;
import java.time.Instant;
import java.util.Set;

/**
 * When an incarnation is gone, so that the work it held is recovered at once rather than after its
 * lease: it ended (stopped cleanly); it was a member of the observer's cluster and is no longer one;
 * it ran where the observer can see its process and that process is gone (or the pid now belongs to
 * a later process); or its heartbeat is older than {@code staleAfter} (the grace period). Membership
 * is trusted as Hazelcast reports it: during a split brain each side takes the other's work, which
 * stays safe because commits are lease-conditional, deletes idempotent and tracked operations fenced. A live process is not proof of
 * a live incarnation (several nodes may share one JVM), so membership is asked first. Pure.
 */
public final class IncarnationRule {

    /** Whether a process with this pid and start time (epoch millis, 0 unknown) still runs. */
    @FunctionalInterface
    public interface ProcessProbe {
        boolean alive(long pid, long startMillis);

        /**
         * The operating system's answer through {@link ProcessHandle}: a process with that pid whose
         * start time is within 2 s of the recorded one (JVMs derive start times from the boot time
         * they read, which a clock step moves); a pid now held by a later process is not it.
         */
        ProcessProbe SYSTEM = (pid, start) -> ProcessHandle.of(pid)
                .map(h -> start == 0
                        || h.info()
                                .startInstant()
                                .map(s -> Math.abs(s.toEpochMilli() - start) <= 2000)
                                .orElse(true))
                .orElse(false);
    }

    private final Incarnation observer;
    private final Duration staleAfter;
    private final ProcessProbe probe;

    public IncarnationRule(Incarnation observer, Duration staleAfter, ProcessProbe probe) {
        this.observer = observer;
        this.staleAfter = staleAfter;
        this.probe = probe;
    }

    /**
     * Why {@code other} is gone, or null while it may be alive. {@code members}: the cluster node ids
     * alive now, or null when the observer is standalone.
     */
    public String goneBecause(Incarnation other, Instant now, Set<String> members) {
        if (other.id().equals(observer.id())) {
            return null;
        }
        if (other.endedAt() != null) {
            return "it stopped at " + other.endedAt();
        }
        if (members != null
                && other.clusterNodeId() != null
                && other.clusterName() != null
                && other.clusterName().equals(observer.clusterName())
                && !members.contains(other.clusterNodeId())) {
            return "its node " + other.nodeId() + " left the cluster (member " + other.clusterNodeId() + ")";
        }
        if (observer.sharesProcessSpaceWith(other) && !probe.alive(other.pid(), other.processStartMillis())) {
            return "its process " + other.pid() + " on " + other.host() + " is gone";
        }
        Instant last = other.heartbeatAt() == null ? other.startedAt() : other.heartbeatAt();
        if (last == null || Duration.between(last, now).compareTo(staleAfter) > 0) {
            return "no heartbeat since " + last;
        }
        return null;
    }
}
