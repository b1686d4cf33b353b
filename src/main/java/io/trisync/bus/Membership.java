package io.trisync.bus;

import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import io.vertx.core.Vertx;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.spi.cluster.ClusterManager;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import java.util.HashSet;
import java.util.Set;
import java.util.UUID;
import java.util.function.Consumer;

/**
 * Which node this is and which nodes are alive. Clustered: the cluster manager's node ids, and
 * Hazelcast membership events for departures (a listener of our own; Vert.x keeps the cluster
 * manager's single node listener for itself). Standalone: a fixed id and no membership.
 */
public final class Membership {

    /** The member attribute where the Vert.x Hazelcast cluster manager keeps a member's node id. */
    private static final String NODE_ID_ATTRIBUTE = "__vertx.nodeId";

    private final ClusterManager cluster;
    private final String standaloneId;

    private Membership(ClusterManager cluster, String standaloneId) {
        this.cluster = cluster;
        this.standaloneId = standaloneId;
    }

    public static Membership of(Vertx vertx, String configuredNodeId) {
        ClusterManager cluster = vertx.isClustered() ? ((VertxInternal) vertx).clusterManager() : null;
        return new Membership(cluster, configuredNodeId);
    }

    /** Whether this node is a member of a cluster. */
    public boolean clustered() {
        return cluster != null;
    }

    /** This node's id as recorded on the operations it runs. */
    public String nodeId() {
        return cluster == null ? standaloneId : cluster.getNodeId();
    }

    /** The ids of the nodes alive now, or null when standalone (membership not checked). */
    public Set<String> liveNodes() {
        return cluster == null ? null : new HashSet<>(cluster.getNodes());
    }

    /** Calls {@code onLeave} (on a Hazelcast thread) whenever a member leaves; returns a handle to remove it. */
    public UUID onMemberLeft(Runnable onLeave) {
        return onMemberLeft(nodeId -> onLeave.run());
    }

    /** Calls {@code onLeave} with the departed node's id (on a Hazelcast thread); returns a handle to remove it. */
    public UUID onMemberLeft(Consumer<String> onLeave) {
        if (!(cluster instanceof HazelcastClusterManager hz) || hz.getHazelcastInstance() == null) {
            return null;
        }
        return hz.getHazelcastInstance().getCluster().addMembershipListener(new MembershipListener() {
            @Override
            public void memberAdded(MembershipEvent event) {}

            @Override
            public void memberRemoved(MembershipEvent event) {
                String nodeId = event.getMember().getAttribute(NODE_ID_ATTRIBUTE);
                if (nodeId != null) {
                    onLeave.accept(nodeId);
                }
            }
        });
    }

    public void removeListener(UUID registration) {
        if (registration != null
                && cluster instanceof HazelcastClusterManager hz
                && hz.getHazelcastInstance() != null) {
            hz.getHazelcastInstance().getCluster().removeMembershipListener(registration);
        }
    }
}
