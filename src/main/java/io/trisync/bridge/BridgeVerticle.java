package io.trisync.bridge;

import io.trisync.api.Access;
import io.trisync.api.EventsApi;
import io.trisync.api.FailureHandler;
import io.trisync.api.FilesApi;
import io.trisync.api.HealthHandler;
import io.trisync.api.RepairApi;
import io.trisync.api.ScanApi;
import io.trisync.api.SyncOpsApi;
import io.trisync.auth.Tokens;
import io.trisync.bus.Requests;
import io.trisync.config.TrisyncConfig;
import io.trisync.scan.ScanAddresses;
import io.trisync.store.Stores;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.bridge.PermittedOptions;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.CorsHandler;
import io.vertx.ext.web.handler.StaticHandler;
import io.vertx.ext.web.handler.sockjs.SockJSBridgeOptions;
import io.vertx.ext.web.handler.sockjs.SockJSHandler;
import io.vertx.ext.web.handler.sockjs.SockJSHandlerOptions;
import io.vertx.micrometer.PrometheusScrapingHandler;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The public HTTP server of a node: the SockJS event-bus bridge at {@code /eventbus} (every frame
 * through {@link BridgeGuard}), the REST API under {@code /api} (bearer token, rate limit and CORS
 * from config), {@code /health}, {@code /metrics} (Prometheus), the browser module and its libraries.
 * Owns the addresses browsers may send to ({@link BridgeAddresses}).
 */
public final class BridgeVerticle extends VerticleBase {

    private static final Logger LOG = LoggerFactory.getLogger(BridgeVerticle.class);

    private final TrisyncConfig config;
    private final Stores stores;
    private final String metricsRegistry;
    private final Tokens tokens;
    private final Access access;
    private final List<MessageConsumer<JsonObject>> consumers = new ArrayList<>();
    private HttpServer server;

    private BridgeVerticle(TrisyncConfig config, Stores stores, String metricsRegistry, Tokens tokens, Access access) {
        this.config = config;
        this.stores = stores;
        this.metricsRegistry = metricsRegistry;
        this.tokens = tokens;
        this.access = access;
    }

    /**
     * Makes the instances of one node's HTTP server (deployed with {@code config.verticleInstances()}):
     * Vert.x shares the listening socket among them and spreads connections, HTTP requests and bridge
     * sockets alike, over their event loops. They share one token verifier and one rate limit.
     * {@code keys} null: authentication off (tests, or {@code AUTH_ENABLED=false}).
     */
    public static Supplier<BridgeVerticle> instances(
            Vertx vertx, TrisyncConfig config, Stores stores, String metricsRegistry, Tokens.Keys keys) {
        Tokens tokens = keys == null ? null : Tokens.of(vertx, keys);
        Access access = new Access(tokens, config.auth().rateLimitPerMinute());
        return () -> new BridgeVerticle(config, stores, metricsRegistry, tokens, access);
    }

    @Override
    public Future<?> start() {
        Router router = Router.router(vertx);
        router.get("/health").handler(new HealthHandler(stores, config.nodeId()));
        router.route("/eventbus/*").subRouter(bridge(tokens));
        if (!config.auth().corsAllowedOrigins().isEmpty()) {
            router.route("/api/*")
                    .handler(CorsHandler.create()
                            .addOrigins(config.auth().corsAllowedOrigins())
                            .allowedMethods(Set.of(HttpMethod.GET, HttpMethod.POST, HttpMethod.DELETE))
                            .allowedHeaders(Set.of("Authorization", "Content-Type", "Idempotency-Key")));
        }
        router.route("/api/*").handler(access);
        long timeoutMs = config.sync().requestTimeoutSeconds() * 1000L;
        new FilesApi(
                        vertx,
                        stores.blobs(),
                        config.ingest().maxFileBytes(),
                        uploadsDir(),
                        timeoutMs,
                        stores.incarnations().id())
                .mount(router);
        new EventsApi(vertx, timeoutMs).mount(router);
        new SyncOpsApi(vertx, timeoutMs).mount(router);
        new ScanApi(vertx, config.sync().maxTimeoutSeconds() * 1000L).mount(router);
        new RepairApi(vertx, timeoutMs).mount(router);
        if (metricsRegistry != null) {
            router.get("/metrics").handler(PrometheusScrapingHandler.create(metricsRegistry));
        }
        router.route("/webjars/*").handler(StaticHandler.create("META-INF/resources/webjars"));
        router.route("/*").handler(StaticHandler.create("webroot"));
        router.route().last().handler(ctx -> ctx.fail(404));
        Replay replay = new Replay(stores.events());
        consumers.add(Requests.consume(vertx.eventBus(), BridgeAddresses.REPLAY, replay::since));
        consumers.add(Requests.consume(vertx.eventBus(), BridgeAddresses.STATUS, body -> vertx.eventBus()
                .<JsonObject>request(
                        ScanAddresses.TENANT_STATUS,
                        new JsonObject()
                                .put("tenantId", body.getString("tenantId"))
                                .put("limit", 50))
                .map(io.vertx.core.eventbus.Message::body)));
        router.route().failureHandler(new FailureHandler());
        return vertx.createHttpServer()
                .requestHandler(router)
                // A negative port is Vert.x's "any free port, shared by the instances that ask for it".
                .listen(config.httpPort() == 0 ? -1 : config.httpPort(), "0.0.0.0")
                .onSuccess(s -> {
                    server = s;
                    LOG.info("HTTP server of node {} listening on port {}", config.nodeId(), s.actualPort());
                });
    }

    /**
     * The SockJS bridge: outbound only event addresses (the guard narrows each socket to its own),
     * inbound only {@link BridgeAddresses#INBOUND}; SockJS heartbeats every {@code
     * WEBSOCKET_PING_INTERVAL} seconds and sockets that stop pinging are reaped.
     */
    private Router bridge(Tokens tokens) {
        long ping = config.events().websocketPingIntervalSeconds() * 1000L;
        SockJSBridgeOptions options = new SockJSBridgeOptions()
                .addOutboundPermitted(
                        new PermittedOptions().setAddressRegex("trisync\\.events\\.[A-Za-z0-9._@-]{1,128}"))
                .setMaxAddressLength(BridgeGuard.MAX_ADDRESS)
                .setMaxHandlersPerSocket(config.events().bridgeMaxHandlers())
                .setPingTimeout(Math.max(10_000, 3 * ping));
        BridgeAddresses.INBOUND.forEach(a -> options.addInboundPermitted(new PermittedOptions().setAddress(a)));
        return SockJSHandler.create(vertx, new SockJSHandlerOptions().setHeartbeatInterval(ping))
                .bridge(options, new BridgeGuard(tokens, config.events()));
    }

    @Override
    public Future<?> stop() {
        Future<Void> unregistered = Future.join(
                        consumers.stream().map(MessageConsumer::unregister).toList())
                .mapEmpty();
        return server == null ? unregistered : unregistered.compose(v -> server.close());
    }

    private java.nio.file.Path uploadsDir() {
        java.nio.file.Path dir = config.dataDir().toAbsolutePath().resolve("uploads");
        vertx.fileSystem().mkdirsBlocking(dir.toString());
        return dir;
    }

    /** The port actually bound (useful when configured as 0). */
    public int port() {
        return server == null ? -1 : server.actualPort();
    }
}
