package io.trisync.embedded;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.gaul.s3proxy.blobstore.BlobStore;
import org.gaul.s3proxy.blobstore.ForwardingBlobStore;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * The temporary files of the embedded S3 server's filesystem store. s3proxy writes an object to
 * {@code {key}-{random UUID}} beside its final path and renames it into place once complete; while
 * the PUT runs, and for good when the process dies during it, that file is a name in the directory,
 * and the store's listing showed it as an object nobody wrote. Here such names are left out of every
 * listing and removed when the server starts (when no PUT can be running).
 *
 * <p>A key is taken for a temporary file when its last segment is at least one character, a dash and
 * a version-4 UUID. trisync never writes such a key: its blob keys end with a file id (a UUIDv7) and
 * its quarantine keys with a bare id.
 */
final class PartialWrites {

    private static final Pattern TEMPORARY =
            Pattern.compile(".+-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");

    private PartialWrites() {}

    /** True when {@code key} names a temporary file of an unfinished PUT, not an object. */
    static boolean isTemporary(String key) {
        String last = key.substring(key.lastIndexOf('/') + 1);
        return TEMPORARY.matcher(last).matches();
    }

    /**
     * Deletes the temporary files under the store's base directory (names beginning with a dot are
     * the store's own bookkeeping and are left alone); returns how many it deleted.
     */
    static int clean(Path baseDir) {
        if (!Files.isDirectory(baseDir)) {
            return 0;
        }
        try (Stream<Path> files = Files.walk(baseDir)) {
            List<Path> partial = files.filter(Files::isRegularFile)
                    .filter(p -> !hidden(baseDir.relativize(p)))
                    .filter(p -> isTemporary(p.getFileName().toString()))
                    .toList();
            for (Path p : partial) {
                Files.deleteIfExists(p);
            }
            return partial.size();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot clean unfinished writes under " + baseDir, e);
        }
    }

    /**
     * {@code store} with temporary files left out of its object listings (a {@link ForwardingBlobStore},
     * which s3proxy looks through to tell the kind of store behind it).
     */
    static BlobStore hiddenFrom(BlobStore store) {
        return new ForwardingBlobStore(store) {
            @Override
            public ListObjectsV2Response list(ListObjectsV2Request request) {
                return withoutTemporary(super.list(request));
            }
        };
    }

    private static boolean hidden(Path relative) {
        for (Path part : relative) {
            if (part.toString().startsWith(".")) {
                return true;
            }
        }
        return false;
    }

    private static ListObjectsV2Response withoutTemporary(ListObjectsV2Response listing) {
        if (listing.contents().stream().noneMatch(PartialWrites::temporary)) {
            return listing;
        }
        List<S3Object> kept = kept(listing.contents());
        return listing.toBuilder().contents(kept).keyCount(kept.size()).build();
    }

    private static List<S3Object> kept(List<S3Object> contents) {
        return contents.stream().filter(o -> !temporary(o)).toList();
    }

    private static boolean temporary(S3Object object) {
        return isTemporary(object.key());
    }
}
