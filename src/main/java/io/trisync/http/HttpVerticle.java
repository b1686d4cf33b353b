package io.trisync.http;

import com.hazelcast.core.HazelcastInstance;
import io.trisync.auth.Tokens;
import io.trisync.bridge.Bridge;
import io.trisync.bridge.BridgeAddresses;
import io.trisync.bus.RequestVerticle;
import io.trisync.config.TrisyncConfig;
import io.trisync.metrics.Metrics;
import io.trisync.store.Stores;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Route;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.handler.CorsHandler;
import io.vertx.ext.web.handler.StaticHandler;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The public HTTP server of a node: the SockJS event-bus bridge at {@code /eventbus} ({@link
 * Bridge}), the REST API under {@code /api} (bearer token, rate limit and CORS
 * from config), {@code /health}, {@code /metrics} (Prometheus), the browser module and its libraries.
 * Answers the bridge's status requests ({@link BridgeAddresses#STATUS}).
 */
public final class HttpVerticle extends RequestVerticle {

    private static final Logger LOG = LoggerFactory.getLogger(HttpVerticle.class);

    private final TrisyncConfig config;
    private final Stores stores;
    private final String metricsRegistry;
    private final Tokens tokens;
    private final Access access;
    private HttpServer server;
    private long sweeper = -1;
    private TimeLimits limits;

    /** Whether this instance sweeps stale upload files (one instance of a node does). */
    private final boolean sweeps;

    private HttpVerticle(
            TrisyncConfig config, Stores stores, String metricsRegistry, Tokens tokens, Access access, boolean sweeps) {
        this.sweeps = sweeps;
        this.config = config;
        this.stores = stores;
        this.metricsRegistry = metricsRegistry;
        this.tokens = tokens;
        this.access = access;
    }

    /**
     * Makes the instances of one node's HTTP server (deployed with {@code config.verticleInstances()}):
     * Vert.x shares the listening socket among them and spreads connections, HTTP requests and bridge
     * sockets alike, over their event loops. They share one token verifier and one rate limit, kept in
     * the cluster when {@code hazelcast} is given (a clustered node), in memory otherwise.
     * {@code keys} null: authentication off (tests, or {@code AUTH_ENABLED=false}).
     */
    public static Supplier<HttpVerticle> instances(
            Vertx vertx,
            TrisyncConfig config,
            Stores stores,
            String metricsRegistry,
            Tokens.Keys keys,
            HazelcastInstance hazelcast) {
        Tokens tokens = keys == null
                ? null
                : Tokens.of(vertx, keys, Duration.ofSeconds(config.auth().maxTokenLifetimeSeconds()));
        int perMinute = config.auth().rateLimitPerMinute();
        Access access = new Access(tokens, perMinute, RateLimit.of(vertx, hazelcast, perMinute));
        AtomicInteger made = new AtomicInteger();
        return () -> new HttpVerticle(config, stores, metricsRegistry, tokens, access, made.getAndIncrement() == 0);
    }

    @Override
    public Future<?> start() {
        return Contract.load(vertx).compose(this::start);
    }

    private Future<?> start(Contract contract) {
        long idleMs = config.httpIdleTimeoutSeconds() * 1000L;
        TimeLimits limits = new TimeLimits(
                vertx, idleMs, config.httpMinBodyBytesPerSecond(), config.httpMinBodyRateWindowSeconds() * 1000L);
        Path uploads = uploadsDir();
        if (sweeps) {
            vertx.executeBlocking(() -> limits.sweep(uploads), false);
            sweeper =
                    vertx.setPeriodic(idleMs, idleMs, id -> vertx.executeBlocking(() -> limits.sweep(uploads), false));
        }
        Router router = Router.router(vertx);
        router.route().handler(limits::request);
        // No page of this origin may be framed by another (the admin UI's buttons act; SockJS's iframe
        // transport frames the bridge from this origin), and no answer's type is guessed.
        router.route().handler(ctx -> {
            ctx.response().putHeader("X-Frame-Options", "SAMEORIGIN").putHeader("X-Content-Type-Options", "nosniff");
            ctx.next();
        });
        // GET or HEAD: a load balancer's probe may ask with either.
        router.route("/health")
                .method(HttpMethod.GET)
                .method(HttpMethod.HEAD)
                .handler(new HealthHandler(stores, config.nodeId(), tokens != null));
        // SockJS's XHR transports post their frames; Vert.x's transport reads them from a body handler
        // (without one, every xhr_send of a browser that fell back from WebSockets failed 500).
        // A form body the parser refuses (jsonp_send's d=, a broken %-escape) is 400, as on the API's routes.
        Bodies.postUncontracted(router, "/eventbus/*", BodyHandler.create(false).setBodyLimit(Bridge.MAX_POSTED_BYTES));
        // SockJS's JSONP and htmlfile transports answer a missing or unsafe callback 500 with plain text
        // (as the SockJS protocol's tests expect): the client's fault, so 400 naming it, with the JSON body.
        router.getWithRegex("/eventbus/[^/.]+/[^/.]+/(?:jsonp|htmlfile)").handler(Bridge::checkCallback);
        router.routeWithRegex("/eventbus/(?:[^/.]+/[^/.]+/)?websocket").handler(Bridge::checkWebSocket);
        // A frame posted to a session SockJS does not hold was 404 with an empty body, an empty or broken
        // one 500 in plain text: the session and the body named, with the JSON body.
        router.postWithRegex("/eventbus/[^/.]+/[^/.]+/(?:xhr_send|jsonp_send)").handler(Bridge.checkSend(vertx));
        router.route("/eventbus/*").subRouter(Bridge.router(vertx, config.events(), tokens, Metrics.of(config)));
        if (!config.auth().corsAllowedOrigins().isEmpty()) {
            router.route("/api/*")
                    .handler(CorsHandler.create()
                            .addOrigins(config.auth().corsAllowedOrigins())
                            .allowedMethods(Set.of(
                                    HttpMethod.GET,
                                    HttpMethod.HEAD,
                                    HttpMethod.POST,
                                    HttpMethod.PUT,
                                    HttpMethod.DELETE,
                                    HttpMethod.PATCH))
                            .allowedHeaders(Set.of(
                                    "Authorization",
                                    "Content-Type",
                                    "Idempotency-Key",
                                    "If-Match",
                                    "If-None-Match",
                                    "If-Range",
                                    "Range"))
                            .exposedHeaders(Set.of("ETag", "Content-Range", "Accept-Ranges")));
        }
        router.route("/api/*").handler(access);
        router.route("/api/*").handler(contract::beforeBody);
        contract.serve(router);
        long timeoutMs = config.sync().requestTimeoutSeconds() * 1000L;
        new FilesApi(
                        vertx,
                        stores.blobs(),
                        config.ingest().maxFileBytes(),
                        uploads,
                        timeoutMs,
                        config.ingest().answerWithinSeconds() * 1000L,
                        stores.incarnations().id(),
                        Metrics.of(config))
                .mount(router);
        new EventsApi(vertx, timeoutMs).mount(router);
        new SearchApi(vertx, timeoutMs).mount(router);
        new SyncOpsApi(vertx, timeoutMs).mount(router);
        new ScanApi(vertx, config.sync().maxTimeoutSeconds() * 1000L).mount(router);
        new RepairApi(vertx, timeoutMs).mount(router);
        new TenantsApi(vertx, timeoutMs).mount(router);
        new VectorsApi(stores.vectors()).mount(router);
        headAsGet(router);
        if (metricsRegistry != null) {
            router.route("/metrics")
                    .method(HttpMethod.GET)
                    .method(HttpMethod.HEAD)
                    .handler(new MetricsEndpoint(
                            stores,
                            Metrics.of(config),
                            metricsRegistry,
                            config.metrics().storeRefreshSeconds()));
        }
        // Files are read (GET, HEAD) and never under /api: another method on an API path is the API's
        // to refuse, 405 when the path is served with other methods.
        router.route("/webjars/*")
                .method(HttpMethod.GET)
                .method(HttpMethod.HEAD)
                .handler(StaticHandler.create("META-INF/resources/webjars"));
        router.routeWithRegex("^/(?!api/).*")
                .method(HttpMethod.GET)
                .method(HttpMethod.HEAD)
                .handler(StaticHandler.create("webroot"));
        consume(BridgeAddresses.STATUS, body -> Bridge.status(vertx, body));
        FailureHandler failures = new FailureHandler(contract::allowedMethods);
        router.route().failureHandler(failures);
        // No route took the request: 405 when its path is served with other methods (PUT /api/search),
        // else 404; both with the JSON error body.
        router.errorHandler(404, failures);
        router.errorHandler(405, failures);
        // A path Vert.x cannot normalise (an undecodable escape, /api/files/%zz) fails before any route
        // matches: 400 from the router, plain text unless handled here.
        router.errorHandler(400, failures::unroutable);
        router.errorHandler(500, failures);
        List<String> mismatches = contract.mismatches(router);
        if (!mismatches.isEmpty()) {
            return Future.failedFuture(new IllegalStateException(
                    "the routes served and " + Contract.FILE + " disagree: " + String.join("; ", mismatches)));
        }
        this.limits = limits;
        // HTTP/1.x only: with HTTP/2 cleartext on, Vert.x would make the connection (and call the
        // connection handler that times it) only once the first bytes had arrived.
        return vertx.createHttpServer(new HttpServerOptions().setHttp2ClearTextEnabled(false))
                .invalidRequestHandler(limits::invalid)
                .connectionHandler(connection -> {
                    CrHeldBack.install(connection);
                    RawFileNames.install(connection);
                    limits.connection(connection, router);
                })
                .requestHandler(router)
                // A negative port is Vert.x's "any free port, shared by the instances that ask for it".
                .listen(config.httpPort() == 0 ? -1 : config.httpPort(), "0.0.0.0")
                .onSuccess(s -> {
                    server = s;
                    LOG.info("HTTP server of node {} listening on port {}", config.nodeId(), s.actualPort());
                });
    }

    @Override
    public Future<?> stop() {
        if (sweeper >= 0) {
            vertx.cancelTimer(sweeper);
        }
        if (limits != null) {
            limits.stop();
        }
        Future<?> unregistered = super.stop();
        return server == null ? unregistered : unregistered.compose(v -> server.close());
    }

    /**
     * Every {@code /api} operation served by {@code GET} answers {@code HEAD} too, as RFC 9110 (9.3.2)
     * has a server do: the same handler, whose answer Vert.x sends without its body (the file
     * download reads a HEAD of the object instead of its bytes, {@link ContentDownload}). A HEAD was
     * 405 here, which a client probing a download's size or a file's {@code ETag} met.
     */
    private static void headAsGet(Router router) {
        for (Route route : router.getRoutes()) {
            String path = route.getPath();
            if (path != null
                    && path.startsWith("/api/")
                    && Set.of(HttpMethod.GET).equals(route.methods())) {
                route.method(HttpMethod.HEAD);
            }
        }
    }

    private Path uploadsDir() {
        Path dir = config.dataDir().toAbsolutePath().resolve("uploads");
        vertx.fileSystem().mkdirsBlocking(dir.toString());
        return dir;
    }

    /** The port actually bound (useful when configured as 0). */
    public int port() {
        return server == null ? -1 : server.actualPort();
    }
}
