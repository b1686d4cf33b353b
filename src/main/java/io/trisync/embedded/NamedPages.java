package io.trisync.embedded;

import java.io.IOException;
import java.nio.file.DirectoryIteratorException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.gaul.s3proxy.blobstore.BlobStore;
import org.gaul.s3proxy.blobstore.ForwardingBlobStore;
import org.gaul.s3proxy.blobstore.SdkResponses;
import software.amazon.awssdk.services.s3.model.HeadObjectRequest;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.services.s3.model.S3Object;
import software.amazon.awssdk.services.s3.model.StorageClass;

/**
 * One page of the embedded S3 server's listing, read in proportion to the page rather than the
 * directory. s3proxy's file-system store answers every page of a prefix listing by reading the
 * attributes of every object in the prefix's directory and then cutting the page out of the sorted
 * whole, so paging through a prefix of k objects reads about k²/page attributes: at a million files
 * the scan spent its time there. This answers a page from the directory's names alone, reading the
 * attributes of the page's objects only.
 *
 * <p>It answers only the listings whose answer the names alone decide: no delimiter, a prefix of
 * plain segments that names a directory (ends with {@code /}) and is no object itself (a directory
 * marker), a page size, and a directory whose names hold no dot-name (s3proxy's own bookkeeping) and
 * no subdirectory a key of the page could come from. It leaves a
 * directory that fits in one page to s3proxy too, whose single walk reads no more. Every other
 * request goes to s3proxy unchanged. The continuation token is the page's last key, as s3proxy's own,
 * so pages of either kind follow one another.
 */
final class NamedPages {

    private NamedPages() {}

    /** {@code store}, whose buckets are the directories under {@code root}, with pages read by name. */
    static BlobStore over(BlobStore store, Path root) {
        Path base = root.normalize();
        return new ForwardingBlobStore(store) {
            @Override
            public ListObjectsV2Response list(ListObjectsV2Request request) {
                return page(delegate(), base, request).orElseGet(() -> super.list(request));
            }
        };
    }

    /**
     * The page read by name, or empty when only s3proxy's own listing can answer {@code request};
     * {@code base}: the normalized directory of the buckets.
     */
    static Optional<ListObjectsV2Response> page(BlobStore store, Path base, ListObjectsV2Request request) {
        String prefix = request.prefix();
        String marker = request.continuationToken() != null ? request.continuationToken() : request.startAfter();
        if ((request.delimiter() != null && !request.delimiter().isEmpty())
                || prefix == null
                || !prefix.endsWith("/")
                || !plain(prefix)
                || request.maxKeys() == null
                || request.maxKeys() < 1
                || (marker != null && !marker.startsWith(prefix))) {
            return Optional.empty();
        }
        Path bucket = base.resolve(request.bucket()).normalize();
        Path dir = bucket.resolve(prefix).normalize();
        if (!bucket.startsWith(base) || !dir.startsWith(bucket) || dir.equals(bucket)) {
            return Optional.empty();
        }
        try {
            if (marked(dir)) {
                // The prefix is itself an object (a directory marker), which s3proxy lists first.
                return Optional.empty();
            }
            String after = marker == null ? null : marker.substring(prefix.length());
            Optional<Chosen> chosen = chosen(dir, after, request.maxKeys());
            return chosen.isEmpty() ? Optional.empty() : read(store, request.bucket(), prefix, dir, chosen.get());
        } catch (IOException | DirectoryIteratorException e) {
            return Optional.empty();
        }
    }

    /** A prefix of plain segments: no empty, {@code .} or {@code ..} one, which s3proxy resolves as a path. */
    private static boolean plain(String prefix) {
        for (String segment : prefix.substring(0, prefix.length() - 1).split("/", -1)) {
            if (segment.isEmpty() || segment.equals(".") || segment.equals("..")) {
                return false;
            }
        }
        return true;
    }

    /** Whether {@code dir} carries user attributes, as a stored directory-marker object does. */
    private static boolean marked(Path dir) throws IOException {
        UserDefinedFileAttributeView view = Files.getFileAttributeView(dir, UserDefinedFileAttributeView.class);
        try {
            return view != null && !view.list().isEmpty();
        } catch (NoSuchFileException e) {
            return false;
        }
    }

    /** The page's names and whether more follow; what it must also check is a file. */
    private record Chosen(List<String> page, List<String> checked, boolean more) {}

    private static Optional<Chosen> chosen(Path dir, String after, int size) throws IOException {
        List<String> names = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path entry : entries) {
                String name = entry.getFileName().toString();
                if (name.startsWith(".")) {
                    return Optional.empty();
                }
                if (!PartialWrites.isTemporary(name)) {
                    names.add(name);
                } else if (isDirectory(entry)) {
                    // Named like an unfinished PUT, but it holds keys: s3proxy lists them.
                    return Optional.empty();
                }
            }
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
        if (names.size() <= size) {
            // One walk answers it: the store reads no attribute more than this would.
            return Optional.empty();
        }
        names.sort(null);
        List<String> checked = new ArrayList<>();
        List<String> page = new ArrayList<>();
        boolean more = false;
        for (String name : names) {
            if (after != null && name.compareTo(after) <= 0) {
                // A directory named by a prefix of the marker holds keys on both sides of it.
                if (after.startsWith(name)) {
                    checked.add(name);
                }
            } else if (page.size() < size) {
                page.add(name);
            } else {
                more = true;
                break;
            }
        }
        checked.addAll(page);
        return Optional.of(new Chosen(page, checked, more));
    }

    /**
     * The page's objects as s3proxy lists them, or empty when a name turns out to be a directory. A
     * directory named after the page's last name holds only keys after it, one named before the
     * marker (and no prefix of it) only keys before it.
     */
    private static Optional<ListObjectsV2Response> read(
            BlobStore store, String bucket, String prefix, Path dir, Chosen chosen) throws IOException {
        for (String name : chosen.checked()) {
            if (isDirectory(dir.resolve(name))) {
                return Optional.empty();
            }
        }
        List<S3Object> contents = new ArrayList<>();
        for (String name : chosen.page()) {
            String key = prefix + name;
            HeadObjectResponse head = store.blobMetadataIfPresent(
                    HeadObjectRequest.builder().bucket(bucket).key(key).build());
            if (head != null) {
                contents.add(SdkResponses.objectEntry(
                        key,
                        head.eTag(),
                        head.lastModified(),
                        head.contentLength(),
                        head.storageClassAsString() == null
                                ? StorageClass.STANDARD
                                : StorageClass.fromValue(head.storageClassAsString())));
            }
        }
        String next = chosen.more() ? prefix + chosen.page().get(chosen.page().size() - 1) : null;
        return Optional.of(SdkResponses.objectsPage(contents, List.of(), next));
    }

    private static boolean isDirectory(Path path) throws IOException {
        try {
            return Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS)
                    .isDirectory();
        } catch (NoSuchFileException e) {
            return false;
        }
    }
}
