package io.trisync;

import com.hazelcast.config.ClasspathXmlConfig;
import com.hazelcast.config.Config;
import com.hazelcast.config.FileSystemXmlConfig;
import io.trisync.auth.Tokens;
import io.trisync.bus.ClusterBus;
import io.trisync.bus.Membership;
import io.trisync.config.ConfigException;
import io.trisync.config.TrisyncConfig;
import io.trisync.embedded.EmbeddedStack;
import io.trisync.embedding.EmbeddingModel;
import io.trisync.embedding.MiniLmEmbeddingModel;
import io.trisync.embedding.OpenAiEmbeddingModel;
import io.trisync.embedding.TimedEmbeddingModel;
import io.trisync.events.EventsVerticle;
import io.trisync.http.HttpVerticle;
import io.trisync.ingest.EraseVerticle;
import io.trisync.ingest.IngestHooks;
import io.trisync.ingest.IngestVerticle;
import io.trisync.metrics.Metrics;
import io.trisync.ops.HeartbeatMonitorVerticle;
import io.trisync.ops.Interruption;
import io.trisync.ops.LocalOperations;
import io.trisync.ops.OpsVerticle;
import io.trisync.ops.RetentionVerticle;
import io.trisync.repair.ReindexVerticle;
import io.trisync.repair.RepairAddresses;
import io.trisync.repair.RepairVerticle;
import io.trisync.scan.PartitionVerticle;
import io.trisync.scan.ScanVerticle;
import io.trisync.search.SearchVerticle;
import io.trisync.store.Stores;
import io.vertx.core.Deployable;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxBuilder;
import io.vertx.core.VertxOptions;
import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.core.internal.VertxInternal;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;
import io.vertx.micrometer.VertxPrometheusOptions;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import java.io.FileNotFoundException;
import java.net.BindException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One running trisync node: its embedded stores (if any), its Vert.x instance (clustered or not),
 * its store adapters and its verticles. {@link #stop()} first ends the tracked operations it runs,
 * then closes the rest in the reverse order so nothing acknowledged is lost: verticles, then
 * clients, then Vert.x, then the embedded servers.
 */
public final class Node {

    private static final Logger LOG = LoggerFactory.getLogger(Node.class);

    private final TrisyncConfig config;
    private final EmbeddedStack stack;
    private final Vertx vertx;
    private final Stores stores;
    private final List<String> deployments = new ArrayList<>();
    private final IngestHooks hooks;
    private final EmbeddingModel model;
    private final Tokens.Keys keys;
    private HttpVerticle bridge;
    private Membership membership;
    private UUID membershipListener;

    private Node(
            TrisyncConfig config,
            EmbeddedStack stack,
            Vertx vertx,
            Stores stores,
            IngestHooks hooks,
            EmbeddingModel model,
            Tokens.Keys keys) {
        this.keys = keys;
        this.hooks = hooks;
        this.model = model;
        this.config = config;
        this.stack = stack;
        this.vertx = vertx;
        this.stores = stores;
    }

    /**
     * Starts a node. Blocks while the embedded stack starts (it is plain threads, not Vert.x), then
     * completes the returned future when every verticle is deployed.
     */
    public static Future<Node> start(TrisyncConfig configured, boolean clustered) {
        return start(configured, clustered, IngestHooks.NONE);
    }

    /** Starts a node whose ingest verticle calls {@code hooks} after each step (fault tests). */
    public static Future<Node> start(TrisyncConfig configured, boolean clustered, IngestHooks hooks) {
        return start(configured, clustered, hooks, null);
    }

    /**
     * Starts a node with its own embedding model ({@code null}: all-MiniLM-L6-v2, loaded once per
     * JVM); benchmarks pass a model that returns a precomputed vector to time the store pipeline alone.
     */
    public static Future<Node> start(
            TrisyncConfig configured, boolean clustered, IngestHooks hooks, EmbeddingModel model) {
        Tokens.Keys keys;
        try {
            Preflight.check(configured);
        } catch (ConfigException e) {
            return Future.failedFuture(e);
        }
        try {
            // Decided on the configuration as given: a blank secret is allowed only when every store is
            // embedded, or when an identity provider's key set is configured.
            keys = configured.auth().enabled() ? Tokens.keys(configured) : null;
        } catch (IllegalStateException e) {
            return Future.failedFuture(e);
        }
        EmbeddedStack stack;
        try {
            stack = EmbeddedStack.start(configured);
        } catch (Exception e) {
            return Future.failedFuture(e);
        }
        TrisyncConfig config = stack.config();
        // Loads the local embedding model (about 1.5 s) here, on the caller's thread, not on an event loop.
        EmbeddingModel local =
                model != null ? model : config.embedding().local() ? MiniLmEmbeddingModel.shared() : null;
        Future<Vertx> vertx;
        try {
            vertx = clustered
                    ? builder(config)
                            .withClusterManager(new HazelcastClusterManager(hazelcastConfig(config)))
                            .buildClustered()
                    : Future.succeededFuture(builder(config).build());
        } catch (RuntimeException | LinkageError e) {
            vertx = Future.failedFuture(e);
        }
        return vertx.recover(e -> {
                    stack.close();
                    return Future.failedFuture(e);
                })
                .compose(v -> {
                    EmbeddingModel embedding = new TimedEmbeddingModel(
                            local != null ? local : new OpenAiEmbeddingModel(v, config.embedding()),
                            Metrics.of(config));
                    Node node = new Node(config, stack, v, Stores.create(v, config), hooks, embedding, keys);
                    // Completed outside the node's Vert.x: a start refused after it was made (the stores'
                    // checks) stops the node, and a future of the node's contexts could not tell the caller
                    // once its event loops have ended.
                    Promise<Node> started = Promise.promise();
                    node.deployAll().onComplete(deployed -> {
                        if (deployed.succeeded()) {
                            started.complete(node);
                        } else {
                            node.stop().onComplete(stopped -> started.fail(deployed.cause()));
                        }
                    });
                    return started.future();
                });
    }

    private Future<Void> deployAll() {
        return stores.init()
                .compose(v -> stores.incarnations().start())
                .onSuccess(v -> watchMembers())
                .compose(v -> when(
                        "ingest",
                        () -> deploy(
                                "IngestVerticle",
                                IngestVerticle.instances(config, stores, model, hooks),
                                config.verticleInstances())))
                .compose(v -> when("ingest", () -> deploy(new SearchVerticle(config, stores, model))))
                .compose(v -> when("ingest", () -> deploy(new EraseVerticle(config, stores))))
                .compose(v -> when("monitor", () -> deploy(new HeartbeatMonitorVerticle(config, stores))
                        .compose(w -> deploy(new OpsVerticle(config, stores)))
                        .compose(w -> deploy(new RetentionVerticle(config, stores)))))
                .compose(v -> when("scan", () -> deploy(new ScanVerticle(config, stores))
                        .compose(w -> deploy(
                                "PartitionVerticle",
                                () -> new PartitionVerticle(config, stores, model.name()),
                                config.verticleInstances()))))
                .compose(v -> when("repair", () -> deploy(new RepairVerticle(config, stores, model))
                        .compose(w -> deploy(new ReindexVerticle(config, stores, model)))))
                .compose(v -> when("http", () -> deploy(new EventsVerticle(stores.events()))
                        .compose(w -> {
                            Supplier<HttpVerticle> instances = HttpVerticle.instances(
                                    vertx, config, stores, metricsRegistry(config), keys, hazelcast());
                            return deploy(
                                            "HttpVerticle",
                                            () -> {
                                                HttpVerticle made = instances.get();
                                                if (bridge == null) {
                                                    bridge = made;
                                                }
                                                return made;
                                            },
                                            config.verticleInstances())
                                    // Its port taken since Preflight looked: told as that, not as a bare
                                    // "Address already in use".
                                    .recover(e -> Future.failedFuture(
                                            e instanceof BindException
                                                    ? Preflight.inUse("HTTP_PORT", config.httpPort())
                                                    : e));
                        })))
                .onSuccess(v -> {
                    LOG.info(
                            "Node {} started (roles {}, http port {}, {})",
                            config.nodeId(),
                            String.join(",", config.nodeRoles()),
                            bridge == null ? "none" : bridge.port(),
                            vertx.isClustered() ? "clustered" : "standalone");
                    if (keys == null) {
                        LOG.warn("Authentication is off (AUTH_ENABLED=false): every caller acts as an admin");
                    } else if (keys.secret() == null) {
                        LOG.info(
                                "Authentication is on with the {} keys of {} (tokens from the identity provider only)",
                                keys.jwks().size(),
                                config.auth().jwksFile());
                    } else if (config.auth().jwtSecret().isBlank()) {
                        LOG.info(
                                "Authentication is on with the secret generated under {}; an admin token:"
                                        + " java -jar {} token --admin",
                                config.dataDir(),
                                Main.jar());
                        if (bridge != null) {
                            LOG.info(
                                    "Sign in (an admin token valid for {}): {}",
                                    Tokens.human(signInLifetime().toSeconds()),
                                    signInLink());
                        }
                    }
                });
    }

    /** Tells the incarnations when a cluster member leaves, so recovery takes its work at once. */
    private void watchMembers() {
        membership = Membership.of(vertx, config.nodeId());
        membershipListener = membership.onMemberLeft(stores.incarnations()::memberLeft);
        // Another node's re-index may switch collections: it says so on the bus, and every node reads
        // the pointer again every few seconds in case it missed that.
        vectorSpacesTimer = vertx.setPeriodic(VECTOR_SPACES_REFRESH_MS, id -> stores.vectors()
                .refresh()
                .onFailure(e -> LOG.debug("Vector collections not read again: {}", e.getMessage())));
        vertx.eventBus().consumer(RepairAddresses.VECTORS_SWITCHED, m -> stores.vectors()
                .refresh());
    }

    private static final long VECTOR_SPACES_REFRESH_MS = 5000;
    private long vectorSpacesTimer = -1;

    /** The cluster's Hazelcast member of a clustered node; null for a standalone one. */
    private com.hazelcast.core.HazelcastInstance hazelcast() {
        return vertx.isClustered() && ((VertxInternal) vertx).clusterManager() instanceof HazelcastClusterManager hz
                ? hz.getHazelcastInstance()
                : null;
    }

    /** Runs {@code deploy} when this node has {@code role} in {@code NODE_ROLES}. */
    private Future<Void> when(String role, Supplier<Future<Void>> deploy) {
        return config.runs(role) ? deploy.get() : Future.succeededFuture();
    }

    private Future<Void> deploy(Deployable verticle) {
        return deploy(verticle.getClass().getSimpleName(), () -> verticle, 1);
    }

    /** Deploys {@code instances} verticles made by {@code supplier}, each on its own event loop. */
    private Future<Void> deploy(String name, Supplier<? extends Deployable> supplier, int instances) {
        return vertx.deployVerticle(supplier, new DeploymentOptions().setInstances(instances))
                .onSuccess(id -> {
                    deployments.add(id);
                    LOG.info("Deployed {} × {} ({})", instances, name, id);
                })
                .onFailure(e -> {
                    if (e instanceof BindException) {
                        LOG.debug("Could not deploy {}", name, e);
                    } else {
                        LOG.error("Could not deploy {}", name, e);
                    }
                })
                .mapEmpty();
    }

    /** {@link #stop(String)} without a signal: a stop the program asked for. */
    public Future<Void> stop() {
        return stop(null);
    }

    /**
     * Ends the tracked operations this node runs (failed, "node n stopped (SIGTERM) while it ran",
     * their tenants' slots freed and their events published while the stores, the bus and the bridge
     * are still up), then undeploys verticles, tells the cluster it takes no more answers ({@link
     * ClusterBus#leaving}), records the incarnation's end, closes store clients,
     * closes Vert.x (leaving the cluster) and stops embedded stores. {@code signal}: the signal that
     * stopped the process ({@code SIGTERM}), null when none.
     */
    public Future<Void> stop(String signal) {
        return LocalOperations.of(vertx)
                .interruptAll(new Interruption(config.nodeId(), signal), LocalOperations.STOP_WRITE_BOUND)
                .transform(ended -> undeployAll());
    }

    private Future<Void> undeployAll() {
        List<Future<Void>> undeploys = new ArrayList<>();
        for (int i = deployments.size() - 1; i >= 0; i--) {
            undeploys.add(vertx.undeploy(deployments.get(i)));
        }
        deployments.clear();
        if (vectorSpacesTimer >= 0) {
            vertx.cancelTimer(vectorSpacesTimer);
        }
        if (membership != null) {
            membership.removeListener(membershipListener);
        }
        // Completed outside the node's Vert.x, which is closed by then: its contexts run nothing more.
        Promise<Void> stopped = Promise.promise();
        Future.join(undeploys)
                // Nothing here waits for an answer now: the other nodes send none after this one.
                .eventually(() -> ClusterBus.of(vertx).leaving())
                .eventually(() -> stores.incarnations()
                        .stop()
                        .timeout(LocalOperations.STOP_WRITE_BOUND.toMillis(), TimeUnit.MILLISECONDS))
                .eventually(() -> stores.close())
                .eventually(() -> vertx.close())
                .transform(ended -> {
                    try {
                        stack.close();
                    } catch (RuntimeException e) {
                        stopped.tryFail(e);
                        return Future.failedFuture(e);
                    }
                    LOG.info("Node {} stopped", config.nodeId());
                    if (ended.failed()) {
                        stopped.tryFail(ended.cause());
                    } else {
                        stopped.tryComplete();
                    }
                    return Future.<Void>succeededFuture();
                });
        return stopped.future();
    }

    public Vertx vertx() {
        return vertx;
    }

    public Stores stores() {
        return stores;
    }

    /** The configuration in force, embedded stores' addresses filled in. */
    public TrisyncConfig config() {
        return config;
    }

    /** How long the admin token of the sign-in address logged at start is valid. */
    static final int SIGN_IN_HOURS = 12;

    /** {@link #SIGN_IN_HOURS}, or the longest lifetime the node accepts if that is less ({@code AUTH_MAX_TOKEN_LIFETIME_SECONDS}). */
    private Duration signInLifetime() {
        Duration max = Duration.ofSeconds(config.auth().maxTokenLifetimeSeconds());
        Duration lifetime = Duration.ofHours(SIGN_IN_HOURS);
        return lifetime.compareTo(max) > 0 ? max : lifetime;
    }

    /**
     * The admin UI's address with an admin token in its fragment ({@code http://localhost:8080/#token=…},
     * as notebook servers log one), on a node whose signing secret was generated here (the embedded
     * default); null otherwise: a configured secret's tokens come from whoever holds it.
     */
    public String signInLink() {
        if (keys == null || keys.secret() == null || !config.auth().jwtSecret().isBlank() || bridge == null) {
            return null;
        }
        Duration max = Duration.ofSeconds(config.auth().maxTokenLifetimeSeconds());
        String token = Tokens.of(vertx, keys.secret(), max).issue(null, true, signInLifetime());
        return "http://localhost:" + bridge.port() + "/#token=" + token;
    }

    /** The HTTP port actually bound. */
    public int httpPort() {
        return bridge == null ? -1 : bridge.port();
    }

    private static VertxBuilder builder(TrisyncConfig config) {
        VertxOptions options = new VertxOptions()
                .setEventBusOptions(new EventBusOptions().setHost(config.clusterHost()))
                .setMetricsOptions(new MicrometerMetricsOptions()
                        .setEnabled(true)
                        .setRegistryName(metricsRegistry(config))
                        .setPrometheusOptions(new VertxPrometheusOptions().setEnabled(true)));
        return Vertx.builder().with(options).withMetrics(new MicrometerMetricsFactory());
    }

    private static String metricsRegistry(TrisyncConfig config) {
        return Metrics.registryName(config);
    }

    /** {@code cluster.xml} from the working directory, else the copy in the jar; the cluster name from config. */
    static Config hazelcastConfig(TrisyncConfig config) {
        Path file = Path.of("cluster.xml");
        Config hz;
        try {
            hz = Files.isRegularFile(file)
                    ? new FileSystemXmlConfig(file.toFile())
                    : new ClasspathXmlConfig("cluster.xml");
        } catch (FileNotFoundException e) {
            throw new IllegalStateException("cluster.xml disappeared while being read", e);
        }
        hz.setClusterName(config.clusterName());
        // Every member shows the others its NODE_ID, so the status can name the nodes alive as the logs do.
        hz.getMemberAttributeConfig().setAttribute(Membership.NAME_ATTRIBUTE, config.nodeId());
        // The entry processors of the cluster-wide rate limit travel between members in Bucket4j's own form.
        io.github.bucket4j.grid.hazelcast.HazelcastProxyManager.addCustomSerializers(hz.getSerializationConfig(), 1000);
        return hz;
    }
}
