package io.trisync.embedded;

import io.trisync.embedded.nio2blob.MemoryBlobStore;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import org.gaul.s3proxy.BlobStores;
import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.auth.AuthenticationType;
import org.gaul.s3proxy.blobstore.BlobStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded S3-API server (s3proxy) on 127.0.0.1, checking AWS signature v4 (or v2) against the
 * configured access and secret key. Filesystem blob store under {@code dataDir/s3} when persisting,
 * an in-memory store ({@link MemoryBlobStore}) otherwise. An object is listed only once its PUT completed: the
 * filesystem store's temporary files are hidden from listings and removed at start ({@link
 * PartialWrites}), and a listing page costs what its objects cost ({@link NamedPages}). A completed PUT is renamed into place before it is answered, so a kill -9 of
 * this process keeps every acknowledged object.
 */
public final class EmbeddedS3 implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedS3.class);

    private final S3Proxy proxy;

    private EmbeddedS3(S3Proxy proxy) {
        this.proxy = proxy;
    }

    /** Starts on 127.0.0.1:{@code port} (0 picks a free port); {@code dataDir} null keeps data in memory. */
    public static EmbeddedS3 start(int port, Path dataDir, String accessKey, String secretKey) throws Exception {
        Properties props = new Properties();
        if (dataDir != null) {
            Files.createDirectories(dataDir);
            int removed = PartialWrites.clean(dataDir);
            if (removed > 0) {
                LOG.info("Removed {} temporary files of PUTs that never completed under {}", removed, dataDir);
            }
            props.setProperty(
                    "jclouds.filesystem.basedir", dataDir.toAbsolutePath().toString());
        }
        props.setProperty("jclouds.identity", accessKey);
        props.setProperty("jclouds.credential", secretKey);
        BlobStore store = PartialWrites.hiddenFrom(dataDir == null ? inMemory() : onDisk(props, dataDir));
        S3Proxy proxy = S3Proxy.builder()
                .blobStore(store)
                .endpoint(URI.create("http://127.0.0.1:" + port))
                .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, accessKey, secretKey)
                .jettyMaxThreads(64)
                .build();
        proxy.start();
        waitStarted(proxy);
        LOG.info(
                "Embedded S3-API server listening on 127.0.0.1:{} ({})",
                proxy.getPort(),
                dataDir == null ? "in memory" : "persisting under " + dataDir);
        return new EmbeddedS3(proxy);
    }

    private static BlobStore inMemory() {
        MemoryBlobStore store = new MemoryBlobStore();
        return NamedPages.over(store, store.root());
    }

    private static BlobStore onDisk(Properties props, Path dataDir) {
        return NamedPages.over(BlobStores.create("filesystem", props), dataDir.toAbsolutePath());
    }

    public int port() {
        return proxy.getPort();
    }

    /** The endpoint URL for S3 clients. */
    public String endpoint() {
        return "http://127.0.0.1:" + proxy.getPort();
    }

    @Override
    public void close() throws Exception {
        proxy.stop();
    }

    private static void waitStarted(S3Proxy proxy) throws IOException, InterruptedException {
        for (int i = 0; i < 200 && !"STARTED".equals(proxy.getState()); i++) {
            Thread.sleep(25);
        }
        if (!"STARTED".equals(proxy.getState())) {
            throw new IOException("s3proxy did not start: state " + proxy.getState());
        }
    }
}
