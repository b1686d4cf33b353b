package io.trisync.embedded.nio2blob;

import com.google.common.jimfs.Configuration;
import com.google.common.jimfs.Jimfs;
import java.nio.file.FileSystem;
import java.nio.file.Path;
import org.gaul.s3proxy.nio2blob.AbstractNio2BlobStore;

/**
 * The embedded S3 server's in-memory store: s3proxy's own file-system store on an in-memory file
 * system (Jimfs), as its {@code transient} provider is, but without that provider's limits. It opens
 * Jimfs with its defaults, 4 GiB in all and 8 KiB blocks, so every object took at least 8 KiB and the
 * store refused PUTs ("out of disk space") at about 530,000 small objects, however large the heap.
 * Here blocks are 1 KiB and the file system may hold as much as the heap can.
 *
 * <p>The package name matters: s3proxy's handler tells its stores apart by class name, and one in a
 * {@code .nio2blob.} package is handled as its file-system store (the one the persistent embedded
 * server uses); elsewhere multipart uploads lost their user metadata.
 */
public final class MemoryBlobStore extends AbstractNio2BlobStore {

    static final int BLOCK_BYTES = 1024;

    public MemoryBlobStore() {
        super(fileSystem().getPath("/"));
    }

    private static FileSystem fileSystem() {
        return Jimfs.newFileSystem(Configuration.unix().toBuilder()
                .setAttributeViews("posix", "user")
                .setWorkingDirectory("/")
                .setBlockSize(BLOCK_BYTES)
                .setMaxSize(Runtime.getRuntime().maxMemory())
                .build());
    }

    /** The directory whose subdirectories are the buckets. */
    public Path root() {
        return getRoot();
    }

    @Override
    public boolean supportsVersioning() {
        return true;
    }

    @Override
    public boolean supportsServerSideEncryption() {
        return true;
    }

    @Override
    public boolean supportsBucketEncryption() {
        return true;
    }
}
