package io.trisync.bus;

import com.hazelcast.core.HazelcastInstanceNotActiveException;
import com.hazelcast.replicatedmap.ReplicatedMap;
import io.trisync.failure.Failure;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.Shareable;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Event-bus requests that know which node took them, so that a node's departure ends them at once
 * instead of after their timeout (Vert.x does not fail the requests a departed member held; they
 * wait out their send timeout, a minute for an upload's completion).
 *
 * <p>Every request consumer is registered twice: on its address and on {@code address@node}, the
 * same handler reachable on that node alone; a Hazelcast replicated map (read locally) says which
 * nodes serve which address. A request picks a live node itself ({@link Target}), sends to its
 * alias and is kept in flight under that node. When the cluster membership reports the node gone,
 * its requests in flight are sent again to another node if they only read ({@code idempotent}), or
 * fail with a retriable 503 if they change something (the node may have done part of it; recovery
 * finishes or undoes that part). A standalone node, or an address no route is known for yet, uses
 * the plain address. One per Vert.x instance ({@link #of}).
 *
 * <p>Each request names the member that sent it ({@link Requests#FROM}), and a serving node answers
 * it only while that member is alive and not stopping: a node marks itself stopping ({@link
 * #leaving}) once its verticles are undeployed, before it closes its event bus and leaves the
 * cluster, so the answers of work done for it elsewhere (its scan's or re-index's partitions) are
 * not sent after it (Vert.x logged each such answer as a failed connection: {@code Not a member of
 * the cluster}, or refused while it was closing).
 */
public final class ClusterBus implements Shareable {

    private static final Logger LOG = LoggerFactory.getLogger(ClusterBus.class);

    /** Which serving node a request goes to. */
    public enum Target {
        /** Round robin over every live node that serves the address (work spread across the cluster). */
        SPREAD,
        /** This node when it serves the address, else round robin (an operation runs where its request came in). */
        LOCAL_FIRST
    }

    /** The {@link Failure#source()} of a request whose node left the cluster before answering. */
    public static final String DEPARTED = "cluster";

    private static final String ROUTES = "trisync-routes";
    private static final String ALIAS = "@";
    /** {@code LEAVING@member} in the routes: that member is stopping and takes no more answers. */
    private static final String LEAVING = "trisync.leaving";
    /** How long a node's list of the nodes serving an address is reused before the replicated map is read again. */
    private static final long HOSTS_TTL_MS = 500;
    /** Sends of one request at most (departures and nodes that stopped serving the address in between). */
    private static final int MAX_ATTEMPTS = 3;

    private final Vertx vertx;
    private final Membership membership;
    private final String self;
    /** address@node → true, for every node of the cluster; null when standalone. */
    private final ReplicatedMap<String, Boolean> routes;
    /** How many consumers of each address this node has (verticles deployed several times). */
    private final Map<String, AtomicInteger> served = new ConcurrentHashMap<>();

    private final Map<String, Set<Attempt>> inFlight = new ConcurrentHashMap<>();
    private final Map<String, Hosts> hosts = new ConcurrentHashMap<>();
    /** Members seen leaving (ids are new at every join, so one that left never comes back as itself). */
    private final Set<String> gone = ConcurrentHashMap.newKeySet();
    /**
     * The round robin of each address: one shared turn would let two addresses asked in alternation
     * (an upload's begin, then its completion) each fall on the same node every time.
     */
    private final Map<String, AtomicInteger> turns = new ConcurrentHashMap<>();

    private record Hosts(List<String> nodes, long readAt) {}

    private ClusterBus(Vertx vertx) {
        this.vertx = vertx;
        this.membership = Membership.of(vertx, "standalone");
        this.self = membership.memberId();
        this.routes =
                vertx.isClustered() && ((VertxInternal) vertx).clusterManager() instanceof HazelcastClusterManager hz
                        ? hz.getHazelcastInstance().getReplicatedMap(ROUTES)
                        : null;
        if (routes != null) {
            membership.onMemberLeft(this::departed);
        }
    }

    /** The one instance of {@code vertx}, made on first use. */
    public static ClusterBus of(Vertx vertx) {
        return vertx.sharedData()
                .<String, ClusterBus>getLocalMap("trisync.bus")
                .computeIfAbsent("bus", k -> new ClusterBus(vertx));
    }

    /**
     * Unregisters {@code consumers}. Once this node's cluster member has stopped (its Hazelcast instance
     * terminated: the node lost the cluster, or is being stopped after it), their handlers are gone
     * from this node but the cluster's map of them cannot be written: that is not a failure of the
     * stop, the other members dropped this one's registrations with it.
     */
    public static Future<Void> unregistered(List<? extends MessageConsumer<?>> consumers) {
        return Future.join(consumers.stream().map(MessageConsumer::unregister).toList())
                .<Void>mapEmpty()
                .recover(error -> {
                    for (Throwable e = error; e != null; e = e.getCause()) {
                        if (e instanceof HazelcastInstanceNotActiveException) {
                            LOG.info("Handlers unregistered here only: this node's cluster member has stopped");
                            return Future.succeededFuture();
                        }
                    }
                    return Future.failedFuture(error);
                });
    }

    /** A request consumer on both of its addresses; {@link #close} removes it and its route. */
    public final class Serving {
        private final String address;
        private final List<MessageConsumer<JsonObject>> consumers;
        private final Future<Void> ready;
        private boolean routed;
        private boolean closed;

        private Serving(String address, List<MessageConsumer<JsonObject>> consumers) {
            this.address = address;
            this.consumers = consumers;
            this.ready = Future.all(
                            consumers.stream().map(MessageConsumer::completion).toList())
                    .compose(v -> offTheLoop(this::route));
        }

        /** Completes when both registrations have reached the cluster and the route is written. */
        public Future<Void> ready() {
            return ready;
        }

        /** Removes the route first (no node picks this one for the address any more), then the consumers. */
        public Future<Void> close() {
            return offTheLoop(this::unroute).transform(unrouted -> unregistered(consumers)
                    .compose(v -> unrouted.succeeded()
                            ? Future.<Void>succeededFuture()
                            : Future.<Void>failedFuture(unrouted.cause())));
        }

        /*
         * The consumers of one address on this node (a verticle deployed several times) share its route:
         * the count and the route's write change together under the count's lock, so one instance's
         * removal cannot land after another's newer write.
         */
        private void route() {
            AtomicInteger count = served.computeIfAbsent(address, a -> new AtomicInteger());
            synchronized (count) {
                synchronized (this) {
                    if (closed) {
                        return;
                    }
                    routed = true;
                }
                if (count.getAndIncrement() == 0 && routes != null) {
                    routes.put(address + ALIAS + self, Boolean.TRUE);
                }
            }
        }

        private void unroute() {
            AtomicInteger count = served.computeIfAbsent(address, a -> new AtomicInteger());
            synchronized (count) {
                synchronized (this) {
                    closed = true;
                    if (!routed) {
                        return;
                    }
                    routed = false;
                }
                if (count.decrementAndGet() == 0 && routes != null) {
                    try {
                        routes.remove(address + ALIAS + self);
                    } catch (HazelcastInstanceNotActiveException gone) {
                        LOG.info("Route {} not removed: this node's cluster member has stopped", address);
                    }
                }
            }
        }
    }

    /**
     * Runs {@code change} of the routes on a worker thread: a write to a replicated map waits for the
     * member that owns its partition, seconds while the cluster migrates partitions (an event loop
     * of a joining node was seen blocked 5.5 s on a route's write). Inline when standalone.
     */
    private Future<Void> offTheLoop(Runnable change) {
        if (routes == null) {
            change.run();
            return Future.succeededFuture();
        }
        return vertx.executeBlocking(
                () -> {
                    change.run();
                    return null;
                },
                false);
    }

    /** Answers JSON requests on {@code address} (and on this node's alias of it) under {@link Requests}' failure policy. */
    public Serving serve(String address, Function<JsonObject, Future<JsonObject>> handler) {
        List<MessageConsumer<JsonObject>> consumers = new ArrayList<>();
        consumers.add(Requests.consume(vertx.eventBus(), address, handler, this::answerable));
        if (routes != null) {
            consumers.add(Requests.consume(vertx.eventBus(), address + ALIAS + self, handler, this::answerable));
        }
        return new Serving(address, consumers);
    }

    /**
     * Whether member {@code from} can still take an answer: refused only when it is known to have left
     * or to be {@link #leaving}. A member this node has not heard of yet (one that just joined, its
     * arrival still on its way here) is answered: a refusal would leave it waiting for its timeout.
     */
    private boolean answerable(String from) {
        if (routes == null || from.equals(self)) {
            return true;
        }
        try {
            return !gone.contains(from) && !routes.containsKey(LEAVING + ALIAS + from);
        } catch (RuntimeException e) {
            // Hazelcast shutting down under this node: answer as Vert.x would.
            return true;
        }
    }

    /**
     * Marks this node as stopping, for the rest of the cluster: from now on no answer is sent to it
     * (the mark goes with its other routes when it has left). Called once its verticles are undeployed
     * (nothing of this node waits for an answer any more) and before its event bus closes.
     */
    public Future<Void> leaving() {
        if (routes == null) {
            return Future.succeededFuture();
        }
        // A blocking Hazelcast write, bounded: a degraded cluster must not hold a stop for its own
        // invocation timeout; without the mark, an answer after this node left is only logged there.
        return vertx.<Void>executeBlocking(
                        () -> {
                            routes.put(LEAVING + ALIAS + self, Boolean.TRUE);
                            return null;
                        },
                        false)
                .timeout(LEAVING_WRITE_BOUND_MS, TimeUnit.MILLISECONDS)
                .recover(e -> {
                    LOG.info("This node's stop could not be marked for the cluster ({})", e.getMessage());
                    return Future.succeededFuture();
                });
    }

    /** How long a stopping node waits for its {@link #leaving} mark to be written. */
    private static final long LEAVING_WRITE_BOUND_MS = 2_000;

    /**
     * Sends {@code body} to a node serving {@code address} and completes with its reply; fails with
     * the reply's {@link Failure} kind. {@code idempotent}: the request only reads, so it is sent again
     * to another node if the one that took it leaves the cluster before answering.
     */
    public Future<JsonObject> request(
            String address, JsonObject body, long timeoutMs, Target target, boolean idempotent) {
        Promise<JsonObject> result = Promise.promise();
        send(new Call(address, body, timeoutMs, target, idempotent, result, vertx.getOrCreateContext()), 1, Set.of());
        return result.future();
    }

    private record Call(
            String address,
            JsonObject body,
            long timeoutMs,
            Target target,
            boolean idempotent,
            Promise<JsonObject> result,
            Context context) {}

    /** One send of a call to one node; abandoned when that node leaves first. */
    private static final class Attempt {
        final Call call;
        final String node;
        final int number;
        final Set<String> excluded;
        volatile boolean abandoned;

        Attempt(Call call, String node, int number, Set<String> excluded) {
            this.call = call;
            this.node = node;
            this.number = number;
            this.excluded = excluded;
        }
    }

    private void send(Call call, int number, Set<String> excluded) {
        String node = routes == null ? null : pick(call.address(), call.target(), excluded);
        DeliveryOptions options = new DeliveryOptions().setSendTimeout(call.timeoutMs());
        if (routes != null) {
            options.addHeader(Requests.FROM, self);
        }
        if (node == null) {
            vertx.eventBus()
                    .<JsonObject>request(call.address(), call.body(), options)
                    .onComplete(reply ->
                            settle(call, reply.succeeded() ? reply.result().body() : null, reply.cause()));
            return;
        }
        Attempt attempt = new Attempt(call, node, number, excluded);
        inFlight.computeIfAbsent(node, n -> ConcurrentHashMap.newKeySet()).add(attempt);
        if (!membership.liveMembers().contains(node)) {
            // It left between the pick and now: its departure may have been handled already.
            departed(node, node);
        }
        vertx.eventBus()
                .<JsonObject>request(call.address() + ALIAS + node, call.body(), options)
                .onComplete(reply -> {
                    Set<Attempt> pending = inFlight.get(node);
                    if (pending != null) {
                        pending.remove(attempt);
                    }
                    if (attempt.abandoned) {
                        return;
                    }
                    if (reply.failed() && Failure.noHandlers(reply.cause()) && number < MAX_ATTEMPTS) {
                        // That node stopped serving the address after its route was read: another may.
                        hosts.remove(call.address());
                        send(call, number + 1, with(excluded, node));
                        return;
                    }
                    settle(call, reply.succeeded() ? reply.result().body() : null, reply.cause());
                });
    }

    private static void settle(Call call, JsonObject body, Throwable error) {
        if (error == null) {
            call.result().tryComplete(body);
        } else {
            call.result().tryFail(timedOut(error) ? timeout(call) : Failure.naming(call.address(), error));
        }
    }

    private static boolean timedOut(Throwable error) {
        return error instanceof ReplyException reply && reply.failureType() == ReplyFailure.TIMEOUT;
    }

    /**
     * A call that got no answer in its time, said as a client can act on it (Vert.x's own message
     * names an internal reply address): 503, the work it asked for may still be going on.
     */
    private static Failure timeout(Call call) {
        return new Failure.Unavailable("no answer from " + call.address() + " within " + (call.timeoutMs() / 1000.0)
                + " s; what it was asked may still complete: look before asking again");
    }

    /** A live node that serves {@code address}, or null when none is known (then the plain address decides). */
    private String pick(String address, Target target, Set<String> excluded) {
        List<String> nodes = new ArrayList<>(hostsOf(address));
        nodes.removeAll(excluded);
        if (nodes.isEmpty()) {
            return null;
        }
        if (target == Target.LOCAL_FIRST && nodes.contains(self)) {
            return self;
        }
        int turn = turns.computeIfAbsent(address, a -> new AtomicInteger()).getAndIncrement();
        return nodes.get(Math.floorMod(turn, nodes.size()));
    }

    private List<String> hostsOf(String address) {
        long now = System.currentTimeMillis();
        Hosts known = hosts.get(address);
        if (known != null && now - known.readAt() < HOSTS_TTL_MS) {
            return known.nodes();
        }
        Set<String> live = membership.liveMembers();
        String prefix = address + ALIAS;
        List<String> nodes = new ArrayList<>();
        for (String key : routes.keySet()) {
            if (key.startsWith(prefix)) {
                String node = key.substring(prefix.length());
                if (live.contains(node)) {
                    nodes.add(node);
                }
            }
        }
        AtomicInteger own = served.get(address);
        if (own != null && own.get() > 0 && !nodes.contains(self)) {
            nodes.add(self);
        }
        nodes.sort(null);
        hosts.put(address, new Hosts(List.copyOf(nodes), now));
        return nodes;
    }

    /**
     * A member left ({@code name}: its {@code NODE_ID}): forget its routes and end (or send again) what
     * it held. Runs on a Hazelcast thread.
     */
    private void departed(String node, String name) {
        gone.add(node);
        hosts.clear();
        for (String key : List.copyOf(routes.keySet())) {
            if (key.endsWith(ALIAS + node)) {
                routes.remove(key);
            }
        }
        Set<Attempt> pending = inFlight.remove(node);
        if (pending == null || pending.isEmpty()) {
            return;
        }
        LOG.info(
                "Node {} (member {}) left the cluster with {} requests of this node in flight: reads are sent again,"
                        + " changes fail",
                name,
                node,
                pending.size());
        for (Attempt attempt : pending) {
            attempt.abandoned = true;
            Call call = attempt.call;
            call.context().runOnContext(v -> {
                if (call.idempotent() && attempt.number < MAX_ATTEMPTS) {
                    send(call, attempt.number + 1, with(attempt.excluded, node));
                } else {
                    call.result()
                            .tryFail(new Failure.Unavailable(
                                    DEPARTED,
                                    "the node that took the request to " + call.address()
                                            + " left the cluster before answering; retry in "
                                            + Failure.RETRY_AFTER_SECONDS + "s",
                                    null));
                }
            });
        }
    }

    /** Whether {@code error} says the node that took a request left the cluster before answering. */
    public static boolean departed(Throwable error) {
        return error instanceof Failure.Unavailable u && DEPARTED.equals(u.source());
    }

    private static Set<String> with(Set<String> set, String node) {
        Set<String> more = new HashSet<>(set);
        more.add(node);
        return Set.copyOf(more);
    }
}
