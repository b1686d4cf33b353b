package io.trisync.http;

import io.trisync.failure.Failure;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
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
 * The body reader of the upload routes. A multipart body whose {@code Content-Length} is at most
 * {@link #IN_MEMORY_BYTES} is read into memory, its file parts kept for {@link #parts}; any other
 * body goes to the {@link BodyHandler}, which spools its files to the uploads folder (and removes
 * them when the request ends). A small upload so touches no disk on the receiving node: no spool
 * file created, written, read back and removed, four trips to a blocking thread and a fifth to read
 * it. A body the multipart decoder refuses fails the request, which {@link FailureHandler} answers
 * 400 as for a spooled one; form fields are decoded and limited by the HTTP server in both cases.
 */
final class UploadBodies implements Handler<RoutingContext> {

    /** Bodies up to this size (the whole multipart request) are read into memory. */
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

    private final BodyHandler spooling;

    UploadBodies(BodyHandler spooling) {
        this.spooling = spooling;
    }

    /** The file parts of the request's body, read by this handler either way. */
    static List<Part> parts(RoutingContext ctx) {
        List<Part> inMemory = ctx.get(PARTS);
        return inMemory != null
                ? inMemory
                : ctx.fileUploads().stream().map(Part::of).toList();
    }

    @Override
    public void handle(RoutingContext ctx) {
        HttpServerRequest request = ctx.request();
        if (!small(request) || request.isEnded()) {
            spooling.handle(ctx);
            return;
        }
        List<Part> parts = new ArrayList<>();
        // Parts being read (counted, as BodyHandler does, rather than trusting every part to end
        // before the request does), bytes held, whether the request has ended, whether it failed.
        int[] open = {0};
        long[] held = {0};
        boolean[] ended = {false};
        boolean[] failed = {false};
        Handler<Throwable> fail = error -> {
            if (!failed[0]) {
                failed[0] = true;
                ctx.fail(error);
            }
        };
        Runnable done = () -> {
            if (ended[0] && open[0] == 0 && !failed[0]) {
                ctx.put(PARTS, List.copyOf(parts));
                ctx.next();
            }
        };
        request.setExpectMultipart(true);
        request.uploadHandler(upload -> {
            open[0]++;
            Buffer bytes = Buffer.buffer();
            upload.handler(chunk -> {
                held[0] += chunk.length();
                if (held[0] > IN_MEMORY_BYTES) {
                    fail.handle(new HttpException(Failure.BAD_REQUEST, "the body is longer than its Content-Length"));
                } else {
                    bytes.appendBuffer(chunk);
                }
            });
            upload.exceptionHandler(fail);
            upload.endHandler(v -> {
                parts.add(
                        new Part(upload.name(), upload.filename(), upload.contentType(), bytes.length(), null, bytes));
                open[0]--;
                done.run();
            });
        });
        request.exceptionHandler(fail);
        request.endHandler(v -> {
            ended[0] = true;
            done.run();
        });
        request.resume();
    }

    /**
     * A multipart request that says its length, and that length is small enough to hold. One that
     * expects an interim answer ({@code Expect: 100-continue}) is left to the BodyHandler, which gives it.
     */
    private static boolean small(HttpServerRequest request) {
        String type = request.getHeader(HttpHeaders.CONTENT_TYPE);
        String length = request.getHeader(HttpHeaders.CONTENT_LENGTH);
        if (type == null
                || length == null
                || request.headers().contains(HttpHeaders.EXPECT)
                || !type.toLowerCase(Locale.ROOT).startsWith("multipart/form-data")) {
            return false;
        }
        try {
            long n = Long.parseLong(length.trim());
            return n >= 0 && n <= IN_MEMORY_BYTES;
        } catch (NumberFormatException e) {
            return false;
        }
    }
}
