package io.trisync.bus;

import com.hazelcast.cluster.Member;
import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.core.HazelcastInstanceNotActiveException;
import io.vertx.core.Vertx;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.spi.cluster.ClusterManager;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which node this is and which nodes are alive, by two names. The <em>member id</em> is the cluster
 * manager's id of one node process (a restarted node gets a new one), used wherever liveness is
 * decided; Hazelcast membership events report departures (a listener of our own; Vert.x keeps the
 * cluster manager's single node listener for itself). The <em>name</em> is the node's {@code NODE_ID},
 * what logs, records and the status show a user; each member carries it as a Hazelcast member
 * attribute ({@link #NAME_ATTRIBUTE}). Standalone: the name is the member id, and no membership.
 */
public final class Membership {

    private static final Logger LOG = LoggerFactory.getLogger(Membership.class);

    /** The member attribute where the Vert.x Hazelcast cluster manager keeps a member's node id. */
    private static final String NODE_ID_ATTRIBUTE = "__vertx.nodeId";

    /** The member attribute where a node keeps its {@code NODE_ID} (set in its Hazelcast config). */
    public static final String NAME_ATTRIBUTE = "trisync.nodeName";

    private final ClusterManager cluster;
    private final String name;

    private Membership(ClusterManager cluster, String name) {
        this.cluster = cluster;
        this.name = name;
    }

    /** The membership of the node that runs {@code vertx}, named {@code name} (its {@code NODE_ID}). */
    public static Membership of(Vertx vertx, String name) {
        ClusterManager cluster = vertx.isClustered() ? ((VertxInternal) vertx).clusterManager() : null;
        return new Membership(cluster, name);
    }

    /** Whether this node is a member of a cluster. */
    public boolean clustered() {
        return cluster != null;
    }

    /** This node's {@code NODE_ID}. */
    public String name() {
        return name;
    }

    /** This node process's member id: the cluster manager's, or the name when standalone. */
    public String memberId() {
        return cluster == null ? name : cluster.getNodeId();
    }

    /** The member ids of the nodes alive now, or null when standalone (membership not checked). */
    public Set<String> liveMembers() {
        return cluster == null ? null : new HashSet<>(cluster.getNodes());
    }

    /**
     * The names of the nodes alive now, sorted (a member that carries no name: its member id); this
     * node's alone when standalone.
     */
    public List<String> liveNames() {
        if (!(cluster instanceof HazelcastClusterManager hz) || hz.getHazelcastInstance() == null) {
            return cluster == null
                    ? List.of(name)
                    : cluster.getNodes().stream().sorted().toList();
        }
        return hz.getHazelcastInstance().getCluster().getMembers().stream()
                .map(Membership::nameOf)
                .filter(Objects::nonNull)
                .sorted()
                .toList();
    }

    /** A member's NODE_ID, or its member id when it carries none (null when it carries neither). */
    private static String nameOf(Member member) {
        String name = member.getAttribute(NAME_ATTRIBUTE);
        return name != null ? name : member.getAttribute(NODE_ID_ATTRIBUTE);
    }

    /** Calls {@code onLeave} (on a Hazelcast thread) whenever a member leaves; returns a handle to remove it. */
    public UUID onMemberLeft(Runnable onLeave) {
        return onMemberLeft((memberId, name) -> onLeave.run());
    }

    /**
     * Calls {@code onLeave} with the departed node's member id and its name (its {@code NODE_ID}, or
     * the member id for a member that carries none), on a Hazelcast thread; returns a handle to remove it.
     */
    public UUID onMemberLeft(BiConsumer<String, String> onLeave) {
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
                    onLeave.accept(nodeId, nameOf(event.getMember()));
                }
            }
        });
    }

    public void removeListener(UUID registration) {
        if (registration != null
                && cluster instanceof HazelcastClusterManager hz
                && hz.getHazelcastInstance() != null) {
            try {
                hz.getHazelcastInstance().getCluster().removeMembershipListener(registration);
            } catch (HazelcastInstanceNotActiveException gone) {
                LOG.debug("Membership listener not removed: this node's cluster member has stopped, and it with it");
            }
        }
    }
}
