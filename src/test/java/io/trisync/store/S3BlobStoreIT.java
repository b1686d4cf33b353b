package io.trisync.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.trisync.config.TrisyncConfig;
import io.trisync.failure.Failure;
import io.trisync.testsupport.TestStack;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(VertxExtension.class)
@Timeout(180)
class S3BlobStoreIT {

    private static final long PART = 5L * 1024 * 1024;
    private static S3BlobStore store;
    private static Vertx vertx;

    @BeforeAll
    static void connect(Vertx v) {
        vertx = v;
        TrisyncConfig.S3Config c = TestStack.config().s3();
        store = new S3BlobStore(
                v,
                new TrisyncConfig.S3Config(c.endpoint(), c.region(), c.accessKey(), c.secretKey(), c.bucket(), PART));
        store.init().await();
        store.init().await();
    }

    @AfterAll
    static void close() {
        store.close().await();
    }

    @Test
    @DisplayName("Put, head, get and stream a small object with its content type and sha256 metadata")
    void smallObjectRoundTrip() {
        String key = TestStack.unique("t") + "/3/file-1";
        Buffer bytes = Buffer.buffer("hello trisync ✓");
        store.putBytes(key, bytes, "text/plain", Map.of("sha256", sha256(bytes.getBytes())))
                .await();
        BlobInfo head = store.head(key).await();
        assertThat(head.size()).isEqualTo(bytes.length());
        assertThat(head.contentType()).startsWith("text/plain");
        assertThat(head.sha256()).isEqualTo(sha256(bytes.getBytes()));
        assertThat(store.getBytes(key).await()).isEqualTo(bytes);
        BlobStore.Download download = store.open(key).await();
        assertThat(download.info().sha256()).isEqualTo(sha256(bytes.getBytes()));
        assertThat(collect(download).await()).isEqualTo(bytes);
    }

    @Test
    @DisplayName("A ranged open streams exactly those bytes with the whole object's size, only while the object"
            + " has the ETag given (Conflict once it was replaced)")
    void rangedOpenPinnedToTheEtag() {
        String key = TestStack.unique("t") + "/2/ranged";
        byte[] content = "0123456789abcdefghij".getBytes();
        BlobInfo put = store.putBytes(key, Buffer.buffer(content), "text/plain", Map.of())
                .await();
        BlobStore.Download part = store.openRange(key, 5, 9, put.etag()).await();
        assertThat(part.info().size()).isEqualTo(content.length);
        assertThat(part.info().etag()).isEqualTo(put.etag());
        assertThat(collect(part).await()).isEqualTo(Buffer.buffer("56789"));

        store.putBytes(key, Buffer.buffer("replaced behind the back"), "text/plain", Map.of())
                .await();
        assertThatThrownBy(() -> store.openRange(key, 5, 9, put.etag()).await()).isInstanceOf(Failure.Conflict.class);
        assertThatThrownBy(
                        () -> store.openRange(key + "-absent", 0, 1, put.etag()).await())
                .isInstanceOf(Failure.NotFound.class);
    }

    @Test
    @DisplayName("A file above the threshold goes up as a multipart upload and streams back byte for byte")
    void multipartUploadAndStreamingGet() throws Exception {
        byte[] content = new byte[(int) (PART * 2 + 12345)];
        new Random(7).nextBytes(content);
        Path file = Files.createTempFile("blob", ".bin");
        Files.write(file, content);
        String key = TestStack.unique("t") + "/1/big";
        BlobInfo put = store.putFile(key, file, "application/octet-stream", Map.of("sha256", sha256(content)))
                .await();
        assertThat(put.etag()).endsWith("-3\"");
        BlobInfo head = store.head(key).await();
        assertThat(head.size()).isEqualTo(content.length);
        assertThat(head.sha256()).isEqualTo(sha256(content));
        Buffer streamed = collect(store.open(key).await()).await();
        assertThat(sha256(streamed.getBytes())).isEqualTo(sha256(content));
        Files.delete(file);
    }

    @Test
    @DisplayName("Listing 250 objects by prefix in pages of 100 visits each exactly once; metadata on request")
    void paginatedListing() {
        String prefix = TestStack.unique("t") + "/0/";
        List<Future<BlobInfo>> puts = new ArrayList<>();
        for (int i = 0; i < 250; i++) {
            puts.add(store.putBytes(
                    prefix + String.format("f-%05d", i),
                    Buffer.buffer("x" + i),
                    "text/plain",
                    Map.of("sha256", "s" + i)));
            if (puts.size() == 64) {
                Future.all(puts).await();
                puts.clear();
            }
        }
        Future.all(puts).await();
        store.putBytes(prefix.replace("/0/", "/1/") + "other", Buffer.buffer("y"), "text/plain", Map.of())
                .await();

        Set<String> seen = new HashSet<>();
        String token = null;
        int pages = 0;
        do {
            Page<BlobInfo> page = store.list(prefix, token, 100, false).await();
            for (BlobInfo b : page.items()) {
                assertThat(b.key()).startsWith(prefix);
                assertThat(seen.add(b.key())).isTrue();
                int i = Integer.parseInt(b.key().substring(prefix.length() + 2));
                assertThat(b.size()).isEqualTo(("x" + i).length());
            }
            token = page.next();
            pages++;
        } while (token != null);
        assertThat(seen).hasSize(250);
        assertThat(pages).isEqualTo(3);

        Page<BlobInfo> withMeta = store.list(prefix, null, 50, true).await();
        assertThat(withMeta.items()).hasSize(50);
        for (BlobInfo b : withMeta.items()) {
            int i = Integer.parseInt(b.key().substring(prefix.length() + 2));
            assertThat(b.sha256()).isEqualTo("s" + i);
        }
    }

    @Test
    @DisplayName("Batch delete removes up to 1,000 keys, counts absent keys as deleted, and refuses more")
    void batchDelete() {
        String prefix = TestStack.unique("t") + "/2/";
        List<String> keys = new ArrayList<>();
        List<Future<BlobInfo>> puts = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            keys.add(prefix + i);
            puts.add(store.putBytes(prefix + i, Buffer.buffer("z"), "text/plain", Map.of()));
        }
        Future.all(puts).await();
        keys.add(prefix + "never-existed");
        BlobStore.DeleteResult result = store.deleteAll(keys).await();
        assertThat(result.failed()).isEmpty();
        assertThat(result.deleted()).hasSize(301);
        assertThat(store.list(prefix, null, 1000, false).await().items()).isEmpty();
        List<String> tooMany = new ArrayList<>();
        for (int i = 0; i < 1001; i++) {
            tooMany.add(prefix + "k" + i);
        }
        assertThatThrownBy(() -> store.deleteAll(tooMany).await()).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    @DisplayName("Copy keeps content and metadata; absent keys are NotFound; delete is idempotent")
    void copyDeleteAndNotFound() {
        String prefix = TestStack.unique("t");
        store.putBytes(prefix + "/a", Buffer.buffer("content"), "text/markdown", Map.of("sha256", "abc"))
                .await();
        store.copy(prefix + "/a", "quarantine/" + prefix + "/a").await();
        BlobInfo copied = store.head("quarantine/" + prefix + "/a").await();
        assertThat(copied.sha256()).isEqualTo("abc");
        assertThat(copied.contentType()).startsWith("text/markdown");
        assertThat(store.getBytes("quarantine/" + prefix + "/a").await().toString())
                .isEqualTo("content");
        store.delete(prefix + "/a").await();
        store.delete(prefix + "/a").await();
        assertThatThrownBy(() -> store.head(prefix + "/a").await()).isInstanceOf(Failure.NotFound.class);
        assertThatThrownBy(() -> store.getBytes(prefix + "/a").await()).isInstanceOf(Failure.NotFound.class);
        assertThatThrownBy(() -> store.open(prefix + "/a").await()).isInstanceOf(Failure.NotFound.class);
        assertThatThrownBy(() -> store.copy(prefix + "/a", prefix + "/b").await())
                .isInstanceOf(Failure.NotFound.class);
    }

    @Test
    @DisplayName("An endpoint nobody listens on fails with Unavailable")
    void unreachableIsUnavailable() {
        TrisyncConfig.S3Config c = TestStack.config().s3();
        S3BlobStore down = new S3BlobStore(
                vertx,
                new TrisyncConfig.S3Config(
                        "http://127.0.0.1:1", c.region(), c.accessKey(), c.secretKey(), c.bucket(), PART));
        try {
            assertThatThrownBy(() -> down.ping().await()).isInstanceOf(Failure.Unavailable.class);
        } finally {
            down.close().await();
        }
    }

    @Test
    @DisplayName("Wrong credentials are refused by the embedded S3 server (signature checked)")
    void wrongCredentialsAreRefused() {
        TrisyncConfig.S3Config c = TestStack.config().s3();
        S3BlobStore wrong = new S3BlobStore(
                vertx,
                new TrisyncConfig.S3Config(
                        c.endpoint(), c.region(), c.accessKey(), "not-the-secret", c.bucket(), PART));
        try {
            assertThatThrownBy(() -> wrong.putBytes("x/y", Buffer.buffer("a"), "text/plain", Map.of())
                            .await())
                    .isNotInstanceOf(Failure.class)
                    .hasMessageContaining("403");
        } finally {
            wrong.close().await();
        }
    }

    private static Future<Buffer> collect(BlobStore.Download download) {
        Promise<Buffer> done = Promise.promise();
        Buffer all = Buffer.buffer();
        download.content().exceptionHandler(done::tryFail);
        download.content().endHandler(v -> done.tryComplete(all));
        download.content().handler(all::appendBuffer);
        return done.future();
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
