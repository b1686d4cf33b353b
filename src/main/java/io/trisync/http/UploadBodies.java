package io.trisync.http;

import io.trisync.failure.Failure;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.file.AsyncFile;
import io.vertx.core.file.OpenOptions;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerFileUpload;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.FileUpload;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.handler.HttpException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The body reader of the upload routes. A multipart body that says a {@code Content-Length} of at
 * most {@link #IN_MEMORY_BYTES}, or none (sent chunked, as Vert.x's web client sends every form), is
 * read here: its file parts are held in memory while the request holds no more than {@link
 * #IN_MEMORY_BYTES} in all, and a part that would go beyond is spooled to the uploads folder from
 * there on (removed when the request ends), up to {@code bodyLimit} bytes of files (413 beyond).
 * Any other body, a longer one and one that expects {@code 100-continue}, goes to the {@link
 * BodyHandler}, which spools every file. A small upload so touches no disk on the receiving node: no
 * spool file created, written, read back and removed, four trips to a blocking thread and a fifth to
 * read it. A body the multipart decoder refuses fails the request, which {@link FailureHandler}
 * answers 400 as for a spooled one; form fields are decoded and limited by the HTTP server in both
 * cases.
 */
final class UploadBodies implements Handler<RoutingContext> {

    /** A request's file parts are held in memory up to this many bytes in all. */
    static final long IN_MEMORY_BYTES = 64 * 1024;

    private static final String PARTS = "trisync.upload-parts";

    /** A file part of an upload: its field, file name, type and bytes, spooled or in memory. */
    record Part(String name, String fileName, String contentType, long size, Path spooled, Buffer bytes) {

        static Part of(FileUpload upload) {
            return new Part(
                    upload.name(),
                    upload.fileName(),
                    upload.contentType(),
                    upload.size(),
                    Path.of(upload.uploadedFileName()),
                    null);
        }
    }

    private final Vertx vertx;
    private final Path spoolDir;
    private final long bodyLimit;
    private final BodyHandler spooling;

    UploadBodies(Vertx vertx, Path spoolDir, long bodyLimit) {
        this.vertx = vertx;
        this.spoolDir = spoolDir;
        this.bodyLimit = bodyLimit;
        this.spooling = BodyHandler.create(spoolDir.toString())
                .setBodyLimit(bodyLimit)
                .setDeleteUploadedFilesOnEnd(true)
                .setMergeFormAttributes(true);
    }

    /** The file parts of the request's body, read by this handler either way. */
    static List<Part> parts(RoutingContext ctx) {
        List<Part> read = ctx.get(PARTS);
        return read != null ? read : ctx.fileUploads().stream().map(Part::of).toList();
    }

    @Override
    public void handle(RoutingContext ctx) {
        if (readHere(ctx.request()) && !ctx.request().isEnded()) {
            new Reading(ctx).start();
        } else {
            spooling.handle(ctx);
        }
    }

    /**
     * A multipart request with no {@code Content-Length} or one of at most {@link #IN_MEMORY_BYTES},
     * that expects no interim answer ({@code Expect: 100-continue} is the BodyHandler's to give).
     */
    private static boolean readHere(HttpServerRequest request) {
        String type = request.getHeader(HttpHeaders.CONTENT_TYPE);
        if (type == null
                || request.headers().contains(HttpHeaders.EXPECT)
                || !type.toLowerCase(Locale.ROOT).startsWith("multipart/form-data")) {
            return false;
        }
        String length = request.getHeader(HttpHeaders.CONTENT_LENGTH);
        if (length == null) {
            return true;
        }
        try {
            long n = Long.parseLong(length.trim());
            return n >= 0 && n <= IN_MEMORY_BYTES;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    /** One request's body being read: its parts, the files it spooled, what it holds and has read. */
    private final class Reading {

        private final RoutingContext ctx;
        private final List<Future<Part>> parts = new ArrayList<>();
        private final List<AsyncFile> files = new ArrayList<>();
        private final List<String> spooled = new ArrayList<>();
        private long held;
        private long read;
        private boolean failed;
        /** The request has ended: a spool file opened from now on is removed at once. */
        private boolean finished;

        Reading(RoutingContext ctx) {
            this.ctx = ctx;
        }

        void start() {
            HttpServerRequest request = ctx.request();
            ctx.addEndHandler(v -> {
                finished = true;
                removeSpooled();
            });
            request.setExpectMultipart(true);
            request.uploadHandler(this::part);
            request.exceptionHandler(this::fail);
            request.endHandler(v -> Future.all(parts).onComplete(all -> {
                if (failed) {
                    return;
                }
                if (all.failed()) {
                    fail(all.cause());
                    return;
                }
                ctx.put(PARTS, parts.stream().map(Future::result).toList());
                ctx.next();
            }));
            request.resume();
        }

        private void fail(Throwable error) {
            if (!failed) {
                failed = true;
                ctx.fail(error);
            }
        }

        /** Counts {@code chunk} against the body limit: false, having failed the request 413, beyond it. */
        private boolean take(Buffer chunk) {
            read += chunk.length();
            if (read > bodyLimit) {
                fail(new HttpException(Failure.PAYLOAD_TOO_LARGE));
            }
            return !failed;
        }

        /**
         * A file part: held in memory while the request's parts fit, else spooled from the chunk that
         * does not. Chunks the decoder hands over while the spool file is being opened are held with
         * the rest; a part that ends meanwhile is kept in memory whole (its file is then removed unused).
         */
        private void part(HttpServerFileUpload upload) {
            Promise<Part> done = Promise.promise();
            parts.add(done.future());
            Buffer bytes = Buffer.buffer();
            boolean[] spooling = {false};
            upload.exceptionHandler(error -> {
                fail(error);
                done.tryFail(error);
            });
            upload.endHandler(v -> done.tryComplete(
                    new Part(upload.name(), upload.filename(), upload.contentType(), bytes.length(), null, bytes)));
            upload.handler(chunk -> {
                if (!take(chunk)) {
                    return;
                }
                bytes.appendBuffer(chunk);
                if (spooling[0]) {
                    return;
                }
                held += chunk.length();
                if (held > IN_MEMORY_BYTES) {
                    held -= bytes.length();
                    spooling[0] = true;
                    spool(upload, bytes, done);
                }
            });
        }

        /** Writes what {@code upload} sent so far ({@code first}) and the rest to a spool file. */
        private void spool(HttpServerFileUpload upload, Buffer first, Promise<Part> done) {
            upload.pause();
            vertx.fileSystem()
                    .createTempFile(spoolDir.toString(), "upload-", "", (String) null)
                    .compose(path -> {
                        spooled.add(path);
                        return vertx.fileSystem()
                                .open(path, new OpenOptions().setWrite(true))
                                .onSuccess(file -> {
                                    if (finished || done.future().isComplete()) {
                                        spooled.remove(path);
                                        file.close().onComplete(closed -> vertx.fileSystem()
                                                .delete(path));
                                        return;
                                    }
                                    files.add(file);
                                    write(upload, file, first, Path.of(path), done);
                                });
                    })
                    .onFailure(error -> {
                        fail(error);
                        done.tryFail(error);
                    });
        }

        /** Streams the rest of {@code upload} into {@code file}, after {@code first}; the part is the file. */
        private void write(HttpServerFileUpload upload, AsyncFile file, Buffer first, Path path, Promise<Part> done) {
            long[] size = {first.length()};
            file.write(first);
            upload.handler(chunk -> {
                if (!take(chunk)) {
                    return;
                }
                size[0] += chunk.length();
                file.write(chunk);
                if (file.writeQueueFull()) {
                    upload.pause();
                    file.drainHandler(v -> upload.resume());
                }
            });
            upload.endHandler(v -> close(file)
                    .map(closed ->
                            new Part(upload.name(), upload.filename(), upload.contentType(), size[0], path, null))
                    .onComplete(part -> {
                        if (part.succeeded()) {
                            done.tryComplete(part.result());
                        } else {
                            fail(part.cause());
                            done.tryFail(part.cause());
                        }
                    }));
            upload.resume();
        }

        /** Closes and removes the spool files once the request has ended. */
        private void removeSpooled() {
            List.copyOf(files).forEach(this::close);
            spooled.forEach(path -> vertx.fileSystem().delete(path));
            spooled.clear();
        }

        /** Closes a spool file this request still has open (a closed one refuses a second close). */
        private Future<Void> close(AsyncFile file) {
            files.remove(file);
            return file.close();
        }
    }
}
