package io.trisync.http;

import io.trisync.failure.Failure;
import io.trisync.store.FileFields;
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
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The body reader of the upload routes. A multipart body is read here, whatever its length (a
 * {@code Content-Length} above {@code bodyLimit} is 413 before anything is read; {@code Expect:
 * 100-continue} is answered first, as the BodyHandler answers it): its file parts are held in memory
 * while the request holds no more than {@link #IN_MEMORY_BYTES} in all (up to twice that for a
 * moment, while a part's bytes so far are moved to its spool file), and a part that would go beyond
 * is spooled to the uploads folder from there on, up to {@code bodyLimit} bytes of files (413
 * beyond); spool files are removed when the request ends. Any other body goes to the {@link
 * BodyHandler}. A small upload so touches no disk on the receiving node: no spool file created,
 * written, read back and removed, four trips to a blocking thread and a fifth to read it. A body the
 * multipart decoder refuses, or one that ends inside a part, fails the request, which {@link
 * FailureHandler} answers 400 (the BodyHandler waited for the end of a part cut off that way until
 * the client went away); form fields are decoded and limited by the HTTP server.
 */
final class UploadBodies implements Handler<RoutingContext> {

    /** A request's file parts are held in memory up to this many bytes in all. */
    static final long IN_MEMORY_BYTES = 64 * 1024;

    private static final String PARTS = "trisync.upload-parts";

    /** A file part of an upload: its field, file name, type and bytes, spooled or in memory. */
    record Part(String name, String fileName, String contentType, long size, Path spooled, Buffer bytes) {

        static Part of(FileUpload upload, String charset) {
            return new Part(
                    upload.name(),
                    upload.fileName(),
                    declaredType(upload.contentType(), charset),
                    upload.size(),
                    Path.of(upload.uploadedFileName()),
                    null);
        }

        /** The part as sent: its file name, and its type with the charset it declared ({@link #declaredType}). */
        Part asSent(String fileName, String charset) {
            return new Part(name, fileName, declaredType(contentType, charset), size, spooled, bytes);
        }

        /**
         * The part's type as declared: Netty's decoder splits a part's {@code charset} parameter off
         * its {@code Content-Type} and names one where the part gave none (the request's, one its
         * transfer encoding implies, or UTF-8), so the charset the part's own header declared
         * ({@link RawFileNames#charset}) is put back, unless it is UTF-8, which text is read as
         * anyway: a Latin-1 text is then read as Latin-1 and served with its charset.
         */
        static String declaredType(String contentType, String charset) {
            if (contentType == null || charset == null || charset.equalsIgnoreCase("UTF-8")) {
                return contentType;
            }
            return contentType + "; charset=" + charset;
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
        if (read != null) {
            return read;
        }
        List<FileUpload> uploads = List.copyOf(ctx.fileUploads());
        List<Part> parts = new ArrayList<>(uploads.size());
        for (int i = 0; i < uploads.size(); i++) {
            parts.add(Part.of(uploads.get(i), RawFileNames.charset(ctx.request(), i)));
        }
        return parts;
    }

    @Override
    public void handle(RoutingContext ctx) {
        HttpServerRequest request = ctx.request();
        if (!multipart(request) || request.isEnded()) {
            spooling.handle(ctx);
            return;
        }
        String type = request.getHeader(HttpHeaders.CONTENT_TYPE);
        if (!hasBoundary(type)) {
            // Netty's decoder reads a multipart body without a boundary as a URL-encoded form: its first
            // line was answered as an unknown form field ("--B Content-Disposition: form-data; name").
            ctx.fail(new Failure.BadRequest("Content-Type: multipart/form-data needs its boundary parameter"
                    + " (multipart/form-data; boundary=…), as the body's delimiters name it"));
            return;
        }
        String charset = MultipartCharsets.problem(FileFields.charset(type));
        if (charset != null) {
            // Netty's decoder reads the parts in it: in UTF-16 no delimiter is ever found ("user_id is
            // required" was answered), an unknown one failed it ("malformed multipart or form data").
            ctx.fail(new Failure.BadRequest("Content-Type: " + charset));
            return;
        }
        if (!type.startsWith(MULTIPART)) {
            // Media types are case-insensitive (RFC 9110), Netty's check of this one is not: it read
            // Multipart/Form-Data as a URL-encoded form.
            request.headers().set(HttpHeaders.CONTENT_TYPE, MULTIPART + type.substring(MULTIPART.length()));
        }
        long length = length(request);
        if (length > bodyLimit) {
            ctx.fail(new HttpException(Failure.PAYLOAD_TOO_LARGE));
            return;
        }
        if (Bodies.continueIfExpected(ctx)) {
            new Reading(ctx).start();
        }
    }

    private static final String MULTIPART = "multipart/form-data";

    private static boolean multipart(HttpServerRequest request) {
        String type = request.getHeader(HttpHeaders.CONTENT_TYPE);
        return type != null && type.toLowerCase(Locale.ROOT).startsWith(MULTIPART);
    }

    /** Whether the multipart {@code type} has a {@code boundary} parameter with a value. */
    static boolean hasBoundary(String type) {
        String[] params = type.split(";");
        for (int i = 1; i < params.length; i++) {
            String param = params[i].strip();
            int eq = param.indexOf('=');
            if (eq > 0 && param.substring(0, eq).strip().equalsIgnoreCase("boundary")) {
                String value = param.substring(eq + 1).strip();
                if (value.length() >= 2 && value.startsWith("\"") && value.endsWith("\"")) {
                    value = value.substring(1, value.length() - 1);
                }
                return !value.isEmpty();
            }
        }
        return false;
    }

    /** The request's {@code Content-Length}, or -1 when it has none (chunked) or an unreadable one. */
    private static long length(HttpServerRequest request) {
        String length = request.getHeader(HttpHeaders.CONTENT_LENGTH);
        try {
            return length == null ? -1 : Long.parseLong(length.trim());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** How long a spooled part may take to end once the request's body has ended. */
    static final long SPOOL_DRAIN_MS = 10_000;

    /** One request's body being read: its parts, the files it spooled, what it holds and has read. */
    /** A file part's name and charset as its headers gave them. */
    private record Sent(String fileName, String charset) {}

    private final class Reading {

        private final RoutingContext ctx;
        private final List<Promise<Part>> parts = new ArrayList<>();
        /** Parts being written to a spool file: the last of their bytes may still wait in their queue. */
        private final List<Promise<Part>> spooling = new ArrayList<>();
        /** Each file part's name and charset as sent ({@link RawFileNames}), by its promise. */
        private final Map<Promise<Part>, Sent> sent = new HashMap<>();

        private final List<AsyncFile> files = new ArrayList<>();
        private final List<String> spooled = new ArrayList<>();
        private long held;
        private long read;
        private boolean failed;
        /** The request has ended (answered, or its connection gone): nothing more is read or kept. */
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
            request.exceptionHandler(error -> fail(refusedCharsetOr(error)));
            request.endHandler(v -> ended());
            request.resume();
        }

        /**
         * The body has ended. The decoder hands a part's end over before the request's, so a part
         * that is neither ended nor spooling was cut off by the end of the body (400); a spooling
         * part's last bytes and end wait in its queue until its file is open, and it gets {@link
         * #SPOOL_DRAIN_MS} to end. Then the route goes on with the parts.
         */
        private void ended() {
            if (failed) {
                return;
            }
            String refused = RawFileNames.refusedCharset(ctx.request());
            if (refused != null) {
                // Its part never ended (its delimiter looked for in that charset), or a field in it read
                // as missing: what was wrong is the charset.
                fail(new Failure.BadRequest(refused));
                return;
            }
            if (parts.stream().anyMatch(p -> !p.future().isComplete() && !spooling.contains(p))) {
                fail(new Failure.BadRequest("the multipart body ended inside a part"));
                return;
            }
            Future<?> all = Future.all(parts.stream().map(Promise::future).toList());
            long drain = vertx.setTimer(
                    SPOOL_DRAIN_MS, id -> fail(new Failure.BadRequest("the multipart body ended inside a part")));
            all.onComplete(done -> {
                vertx.cancelTimer(drain);
                if (failed || finished) {
                    return;
                }
                if (done.failed()) {
                    fail(done.cause());
                    return;
                }
                ctx.put(
                        PARTS,
                        parts.stream()
                                .map(p -> p.future()
                                        .result()
                                        .asSent(
                                                sent.get(p).fileName(),
                                                sent.get(p).charset()))
                                .toList());
                ctx.next();
            });
        }

        /**
         * A part declaring a charset the body cannot be read in ({@link RawFileNames#refusedCharset}) is
         * what failed the decoder (one the JVM does not know), when there is one; else {@code error}.
         */
        private Throwable refusedCharsetOr(Throwable error) {
            String refused = RawFileNames.refusedCharset(ctx.request());
            return refused == null ? error : new Failure.BadRequest(refused);
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
            return !failed && !finished;
        }

        /**
         * A file part: held in memory while the request's parts fit, else spooled from the chunk that
         * does not. (A paused upload hands over neither bytes nor its end until it is resumed, so none
         * arrives while its spool file is being opened.)
         */
        private void part(HttpServerFileUpload upload) {
            String refused = RawFileNames.refusedCharset(ctx.request());
            if (refused != null) {
                // Answered now rather than after the whole body: this part would never end.
                fail(new Failure.BadRequest(refused));
                return;
            }
            Promise<Part> done = Promise.promise();
            // Netty's decoder cleaned the name; the one sent is read beside it (RawFileNames).
            sent.put(
                    done,
                    new Sent(
                            RawFileNames.pick(RawFileNames.of(ctx.request()), parts.size(), upload.filename()),
                            RawFileNames.charset(ctx.request(), parts.size())));
            parts.add(done);
            Buffer bytes = Buffer.buffer();
            upload.exceptionHandler(error -> {
                fail(error);
                done.tryFail(error);
            });
            upload.endHandler(v -> done.tryComplete(
                    new Part(upload.name(), upload.filename(), upload.contentType(), bytes.length(), null, bytes)));
            upload.handler(chunk -> {
                if (!take(chunk) || spooling.contains(done)) {
                    return;
                }
                bytes.appendBuffer(chunk);
                held += chunk.length();
                if (held > IN_MEMORY_BYTES) {
                    held -= bytes.length();
                    spool(upload, bytes, done);
                }
            });
        }

        /** Writes what {@code upload} sent so far ({@code first}) and the rest to a spool file. */
        private void spool(HttpServerFileUpload upload, Buffer first, Promise<Part> done) {
            spooling.add(done);
            upload.pause();
            vertx.fileSystem()
                    .createTempFile(spoolDir.toString(), "upload-", "", (String) null)
                    .compose(path -> {
                        if (finished) {
                            vertx.fileSystem().delete(path);
                            return Future.failedFuture("the request ended");
                        }
                        spooled.add(path);
                        return vertx.fileSystem()
                                .open(path, new OpenOptions().setWrite(true))
                                .onSuccess(file -> {
                                    files.add(file);
                                    if (finished || failed) {
                                        removeSpooled();
                                    } else {
                                        write(upload, file, first, Path.of(path), done);
                                    }
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
            Handler<Throwable> broken = error -> {
                fail(error);
                done.tryFail(error);
            };
            file.write(first).onFailure(broken);
            upload.handler(chunk -> {
                if (!take(chunk) || !files.contains(file)) {
                    return;
                }
                size[0] += chunk.length();
                file.write(chunk).onFailure(broken);
                if (file.writeQueueFull()) {
                    upload.pause();
                    file.drainHandler(v -> upload.resume());
                }
            });
            upload.endHandler(v -> {
                if (files.contains(file)) {
                    close(file)
                            .map(closed -> new Part(
                                    upload.name(), upload.filename(), upload.contentType(), size[0], path, null))
                            .onSuccess(done::tryComplete)
                            .onFailure(broken);
                }
            });
            upload.resume();
        }

        /** Closes and removes the spool files: once the request has ended, or failed while one opened. */
        private void removeSpooled() {
            List.copyOf(files).forEach(this::close);
            spooled.forEach(path -> vertx.fileSystem().delete(path));
            spooled.clear();
        }

        /** Closes a spool file this request has open (Vert.x refuses to close a file twice). */
        private Future<Void> close(AsyncFile file) {
            return files.remove(file) ? file.close() : Future.succeededFuture();
        }
    }
}
