package io.trisync.bridge;

import io.trisync.api.EventsApi;
import io.trisync.api.FailureHandler;
import io.trisync.api.FilesApi;
import io.trisync.api.HealthHandler;
import io.trisync.api.RepairApi;
import io.trisync.api.ScanApi;
import io.trisync.api.SyncOpsApi;
import io.trisync.config.TrisyncConfig;
import io.trisync.store.Stores;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.ext.web.Router;
import io.vertx.micrometer.PrometheusScrapingHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The public HTTP server of a node: {@code /health}, {@code /metrics} (Prometheus) and, as the
 * capabilities land, the REST API under {@code /api} and the SockJS bridge at {@code /eventbus}.
 * Stateless: a node may run several instances on the same port.
 */
public final class BridgeVerticle extends VerticleBase {

    private static final Logger LOG = LoggerFactory.getLogger(BridgeVerticle.class);

    private final TrisyncConfig config;
    private final Stores stores;
    private final String metricsRegistry;
    private HttpServer server;

    public BridgeVerticle(TrisyncConfig config, Stores stores, String metricsRegistry) {
        this.config = config;
        this.stores = stores;
        this.metricsRegistry = metricsRegistry;
    }

    @Override
    public Future<?> start() {
        Router router = Router.router(vertx);
        router.get("/health").handler(new HealthHandler(stores, config.nodeId()));
        long timeoutMs = config.sync().requestTimeoutSeconds() * 1000L;
        new FilesApi(vertx, stores.blobs(), config.ingest().maxFileBytes(), uploadsDir(), timeoutMs).mount(router);
        new EventsApi(vertx, timeoutMs).mount(router);
        new SyncOpsApi(vertx, timeoutMs).mount(router);
        new ScanApi(vertx, config.sync().maxTimeoutSeconds() * 1000L).mount(router);
        new RepairApi(vertx, timeoutMs).mount(router);
        if (metricsRegistry != null) {
            router.get("/metrics").handler(PrometheusScrapingHandler.create(metricsRegistry));
        }
        router.route().last().handler(ctx -> ctx.fail(404));
        router.route().failureHandler(new FailureHandler());
        return vertx.createHttpServer()
                .requestHandler(router)
                .listen(config.httpPort(), "0.0.0.0")
                .onSuccess(s -> {
                    server = s;
                    LOG.info("HTTP server of node {} listening on port {}", config.nodeId(), s.actualPort());
                });
    }

    @Override
    public Future<?> stop() {
        return server == null ? Future.succeededFuture() : server.close();
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
