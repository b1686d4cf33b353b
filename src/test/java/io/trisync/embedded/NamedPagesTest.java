package io.trisync.embedded;

import static org.assertj.core.api.Assertions.assertThat;

import io.trisync.embedded.nio2blob.MemoryBlobStore;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.UUID;
import org.gaul.s3proxy.BlobStores;
import org.gaul.s3proxy.blobstore.BlobStore;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;

class NamedPagesTest {

    private static final String BUCKET = "b";

    @TempDir
    Path disk;

    private BlobStore raw;
    private Path root;
    private BlobStore paged;

    /** s3proxy's file-system store on disk (the persistent embedded server's) or in memory (Jimfs). */
    private void store(boolean onDisk) {
        if (onDisk) {
            Properties props = new Properties();
            props.setProperty("jclouds.filesystem.basedir", disk.toString());
            raw = BlobStores.create("filesystem", props);
            root = disk.toAbsolutePath();
        } else {
            MemoryBlobStore memory = new MemoryBlobStore();
            raw = memory;
            root = memory.root();
        }
        raw.createContainer(BUCKET);
        paged = PartialWrites.hiddenFrom(NamedPages.over(raw, root));
    }

    @ParameterizedTest(name = "on disk: {0}")
    @ValueSource(booleans = {false, true})
    @DisplayName("Pages read by name list what s3proxy lists, page by page, and leave unfinished PUTs out")
    void pagesMatchTheStoresOwnListing(boolean onDisk) throws Exception {
        store(onDisk);
        for (int i = 0; i < 25; i++) {
            put("t/3/" + UUID.randomUUID(), "content " + i);
        }
        put("t/3/a.b_c-d", "odd characters");
        put("t/30/" + UUID.randomUUID(), "the next partition's prefix starts like this one");

        List<ListObjectsV2Response> byName = pages(paged, "t/3/", 7);

        assertThat(byName).hasSize(4);
        assertThat(byName).isEqualTo(pages(raw, "t/3/", 7));
        String token = byName.get(1).nextContinuationToken();
        assertThat(NamedPages.page(raw, root, request("t/3/", 7, token)))
                .as("a page after a marker is read by name")
                .isPresent();

        Files.writeString(root.resolve(BUCKET + "/t/3/" + UUID.randomUUID() + "-" + UUID.randomUUID()), "unfinished");
        assertThat(keys(pages(paged, "t/3/", 7))).hasSize(26).isEqualTo(keys(byName));
    }

    @ParameterizedTest(name = "on disk: {0}")
    @ValueSource(booleans = {false, true})
    @DisplayName("A directory whose names alone cannot order its keys is listed by s3proxy itself")
    void subdirectoriesGoToTheStore(boolean onDisk) throws Exception {
        store(onDisk);
        put("t/4/ab-1", "before the subdirectory's keys");
        put("t/4/ab/x", "in a subdirectory");
        put("t/4/ab0", "after them");

        assertThat(pages(paged, "t/4/", 2)).isEqualTo(pages(raw, "t/4/", 2));
        assertThat(NamedPages.page(raw, root, request("t/4/", 2, null))).isEmpty();
        assertThat(NamedPages.page(raw, root, request("t/4/", 1, "t/4/ab-1")))
                .as("the directory ab sorts before the marker ab-1 but holds ab/x after it")
                .isEmpty();
        assertThat(NamedPages.page(
                        raw,
                        root,
                        request("t/", 5, null).toBuilder().delimiter("/").build()))
                .isEmpty();
    }

    @ParameterizedTest(name = "on disk: {0}")
    @ValueSource(booleans = {false, true})
    @DisplayName(
            "A prefix that is an object itself, a directory named like an unfinished PUT and a dotted prefix go to s3proxy")
    void oddDirectoriesGoToTheStore(boolean onDisk) throws Exception {
        store(onDisk);
        for (int i = 0; i < 3; i++) {
            put("t/5/" + i, "under a marker");
            put("t/6/" + i, "beside a directory named like a temporary file");
        }
        put("t/5/", "the marker");
        put("t/6/" + UUID.randomUUID() + "-" + UUID.randomUUID() + "/inside", "in that directory");

        assertThat(NamedPages.page(raw, root, request("t/5/", 2, null))).isEmpty();
        assertThat(keys(pages(paged, "t/5/", 2))).hasSize(4).contains("t/5/");
        assertThat(NamedPages.page(raw, root, request("t/6/", 2, null))).isEmpty();
        assertThat(keys(pages(paged, "t/6/", 2))).hasSize(4);
        assertThat(NamedPages.page(raw, root, request("t/./6/", 2, null))).isEmpty();
        assertThat(NamedPages.page(raw, root, request("t//6/", 2, null))).isEmpty();
    }

    private void put(String key, String content) {
        byte[] bytes = content.getBytes(StandardCharsets.UTF_8);
        raw.putBlob(
                PutObjectRequest.builder()
                        .bucket(BUCKET)
                        .key(key)
                        .contentLength((long) bytes.length)
                        .build(),
                new ByteArrayInputStream(bytes));
    }

    private static List<ListObjectsV2Response> pages(BlobStore store, String prefix, int size) {
        List<ListObjectsV2Response> pages = new ArrayList<>();
        String token = null;
        do {
            ListObjectsV2Response page = store.list(request(prefix, size, token));
            pages.add(page);
            token = page.nextContinuationToken();
        } while (token != null);
        return pages;
    }

    private static ListObjectsV2Request request(String prefix, int size, String token) {
        return ListObjectsV2Request.builder()
                .bucket(BUCKET)
                .prefix(prefix)
                .maxKeys(size)
                .continuationToken(token)
                .build();
    }

    private static List<String> keys(List<ListObjectsV2Response> pages) {
        return pages.stream()
                .flatMap(p -> p.contents().stream())
                .map(o -> o.key())
                .toList();
    }
}
