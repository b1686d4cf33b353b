package io.trisync.testsupport;

import io.vertx.core.Context;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.BodyHandler;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An OpenAI-compatible embedding service on loopback for tests: {@code POST /v1/embeddings} with
 * {@code {"model", "input": [texts]}} answers {@code {"data": [{"index", "embedding"}], "model"}},
 * each vector a deterministic function of its text (unit length, {@code dimension} values). It
 * remembers every request's batch size and can be told to refuse (a status, with {@code Retry-After})
 * or to answer vectors of the wrong dimension.
 */
public final class EmbeddingServer implements AutoCloseable {

    private final Vertx vertx;
    private final HttpServer server;
    private volatile int dimension;
    private volatile int refuseWith;
    /** Requests for this model are refused with {@link #refuseModelWith} (null: none). */
    private volatile String refusedModel;

    private volatile int refuseModelWith;
    private volatile boolean wrongDimension;
    private volatile WrongAnswer wrongAnswer;
    private volatile long delayMs;
    private volatile Promise<Void> gate;
    /** While {@link #gate} is closed, only requests with a text containing this are held (null: every request). */
    private volatile String heldMarker;

    private volatile String refusedMarker;
    private volatile AtomicInteger answersLeft;
    private final List<Integer> batches = new CopyOnWriteArrayList<>();
    private final List<String> inputs = new CopyOnWriteArrayList<>();
    /** The model each text was last embedded as. */
    private final Map<String, Set<String>> modelsOf = new ConcurrentHashMap<>();

    private final List<List<String>> requests = new CopyOnWriteArrayList<>();
    private final AtomicInteger refused = new AtomicInteger();
    private final AtomicInteger held = new AtomicInteger();

    public EmbeddingServer(int dimension) {
        this.dimension = dimension;
        this.vertx = Vertx.vertx();
        Router router = Router.router(vertx);
        router.post("/v1/embeddings").handler(BodyHandler.create()).handler(ctx -> {
            String model = refusedModel;
            if (model != null && model.equals(ctx.body().asJsonObject().getString("model"))) {
                refused.incrementAndGet();
                ctx.response()
                        .setStatusCode(refuseModelWith)
                        .end(new JsonObject()
                                .put("error", "model " + model + " refused by the test")
                                .encode());
                return;
            }
            AtomicInteger left = answersLeft;
            if (refuseWith > 0 || left != null && left.getAndDecrement() <= 0) {
                refused.incrementAndGet();
                ctx.response()
                        .setStatusCode(refuseWith > 0 ? refuseWith : 503)
                        .putHeader("Retry-After", "1")
                        .end(new JsonObject()
                                .put("error", "refused by the test")
                                .encode());
                return;
            }
            Promise<Void> closed = gate;
            String only = heldMarker;
            if (closed != null && (only == null || ctx.body().asString().contains(only))) {
                held.incrementAndGet();
                Context context = Vertx.currentContext();
                closed.future()
                        .onComplete(v -> context.runOnContext(x -> {
                            held.decrementAndGet();
                            ctx.next();
                        }));
                return;
            }
            long wait = delayMs;
            if (wait > 0) {
                held.incrementAndGet();
                vertx.setTimer(wait, id -> {
                    held.decrementAndGet();
                    ctx.next();
                });
            } else {
                ctx.next();
            }
        });
        router.post("/v1/embeddings").handler(ctx -> {
            JsonObject body = ctx.body().asJsonObject();
            JsonArray input = body.getJsonArray("input");
            requests.add(input.stream().map(String::valueOf).toList());
            String marker = refusedMarker;
            if (marker != null
                    && input.stream().anyMatch(text -> String.valueOf(text).contains(marker))) {
                refused.incrementAndGet();
                ctx.response()
                        .setStatusCode(400)
                        .end(new JsonObject()
                                .put("error", "this input is refused by the test")
                                .encode());
                return;
            }
            batches.add(input.size());
            WrongAnswer wrong = wrongAnswer;
            if (wrong != null) {
                ctx.response().putHeader("Content-Type", "application/json").end(wrong.body(input.size(), dimension));
                return;
            }
            JsonArray data = new JsonArray();
            for (int i = input.size() - 1; i >= 0; i--) {
                // Answered in reverse order: the client must sort by index.
                String text = input.getString(i);
                inputs.add(text);
                modelsOf.computeIfAbsent(text, t -> ConcurrentHashMap.newKeySet())
                        .add(body.getString("model"));
                data.add(new JsonObject()
                        .put("object", "embedding")
                        .put("index", i)
                        .put("embedding", vector(text, wrongDimension ? dimension + 1 : dimension)));
            }
            ctx.response()
                    .putHeader("Content-Type", "application/json")
                    .end(new JsonObject()
                            .put("object", "list")
                            .put("model", body.getString("model"))
                            .put("data", data)
                            .encode());
        });
        this.server = vertx.createHttpServer()
                .requestHandler(router)
                .listen(0, "127.0.0.1")
                .await();
    }

    /**
     * A node's settings to embed with this server as {@code model}: provider {@code openai}, its URL,
     * the model and the server's dimension.
     */
    public Map<String, String> nodeEnv(String model) {
        return Map.of(
                "EMBEDDING_PROVIDER",
                "openai",
                "EMBEDDING_URL",
                url(),
                "EMBEDDING_MODEL",
                model,
                "EMBEDDING_DIMENSIONS",
                String.valueOf(dimension));
    }

    /** The base URL for {@code EMBEDDING_URL}. */
    public String url() {
        return "http://127.0.0.1:" + server.actualPort() + "/v1";
    }

    /** Answers every request with {@code status} (and {@code Retry-After: 1}) from now on; 0: answers again. */
    public void refuse(int status) {
        this.refuseWith = status;
    }

    /**
     * Answers the next {@code requests} requests, then every later one 503 (and {@code Retry-After:
     * 1}): a service that goes down part way through a large file. {@link #refuse refuse(0)} does not
     * end it; {@code answerAgain} does.
     */
    public void failAfter(int requests) {
        answersLeft = new AtomicInteger(requests);
    }

    /** Ends {@link #failAfter}: every request is answered again. */
    public void answerAgain() {
        answersLeft = null;
    }

    /** Answers each request this long after it arrives (a slow service); 0: at once. */
    public void delay(long millis) {
        this.delayMs = millis;
    }

    /** Holds every request from now on until {@link #release()}. */
    public void hold() {
        gate = Promise.promise();
    }

    /**
     * Holds, from now on until {@link #release()}, only the requests with a text containing {@code
     * marker}; the others are answered as usual (a re-index held while a new version is embedded).
     */
    public void holdTextsWith(String marker) {
        heldMarker = marker;
        gate = Promise.promise();
    }

    /** Answers the requests held since {@link #hold()}, and those that come later at once. */
    public void release() {
        Promise<Void> held = gate;
        gate = null;
        heldMarker = null;
        if (held != null) {
            held.complete();
        }
    }

    /** Refuses (400, as a provider refuses content) every request with a text containing {@code marker}; null: none. */
    public void refuseTextsWith(String marker) {
        this.refusedMarker = marker;
    }

    /** The texts of each request that reached the embedding handler (answered or refused for its content), in order. */
    public List<List<String>> requests() {
        return List.copyOf(requests);
    }

    public void wrongDimension(boolean wrong) {
        this.wrongDimension = wrong;
    }

    /**
     * Answers that have the shape of an embeddings response (one item per text) and cannot be used,
     * as a broken or misconfigured service gives them.
     */
    public enum WrongAnswer {
        /** {@code "data": [1, 2, …]}. */
        ITEMS_NOT_OBJECTS("is not {\"index\""),
        /** An index given as a string (the vectors themselves usable). */
        STRING_INDEX("is not {\"index\""),
        /** Vectors of strings. */
        STRING_VALUES("is not {\"index\""),
        /** Vectors of nulls. */
        NULL_VALUES("is not {\"index\""),
        /** Values beyond a float's range ({@code 1e400}): valid JSON, infinite as a float. */
        INFINITE_VALUES("not a finite float"),
        /** Vectors of zeros: no direction to compare by cosine. */
        ZERO_VECTORS("is all zeros");

        /** What the refusal of this answer says. */
        public final String reason;

        WrongAnswer(String reason) {
            this.reason = reason;
        }

        /** The raw answer for {@code texts} texts of {@code dimension}. */
        String body(int texts, int dimension) {
            StringBuilder data = new StringBuilder();
            for (int i = 0; i < texts; i++) {
                String value =
                        switch (this) {
                            case STRING_VALUES -> "\"0.5\"";
                            case NULL_VALUES -> "null";
                            case INFINITE_VALUES -> "1e400";
                            case ZERO_VECTORS -> "0";
                            default -> "0.5";
                        };
                String vector = "[" + String.join(",", java.util.Collections.nCopies(dimension, value)) + "]";
                String index = this == STRING_INDEX ? "\"" + i + "\"" : String.valueOf(i);
                data.append(i == 0 ? "" : ",")
                        .append(
                                this == ITEMS_NOT_OBJECTS
                                        ? String.valueOf(i + 1)
                                        : "{\"object\":\"embedding\",\"index\":" + index + ",\"embedding\":" + vector
                                                + "}");
            }
            return "{\"object\":\"list\",\"data\":[" + data + "]}";
        }
    }

    /** Answers every request with {@code wrong} from now on; null: answers rightly again. */
    public void answerWrongly(WrongAnswer wrong) {
        this.wrongAnswer = wrong;
    }

    /** The number of texts in each request answered, in order. */
    public List<Integer> batches() {
        return List.copyOf(batches);
    }

    /** Refuses every request for {@code model} with {@code status} from now on ({@code model} null: none). */
    public void refuseModel(String model, int status) {
        this.refuseModelWith = status;
        this.refusedModel = model;
    }

    /** The models {@code text} was embedded as (the requests' {@code model}), empty if never. */
    public Set<String> modelsOf(String text) {
        return Set.copyOf(modelsOf.getOrDefault(text, Set.of()));
    }

    /** Every text embedded so far (a text embedded twice appears twice). */
    public List<String> inputs() {
        return List.copyOf(inputs);
    }

    public int refused() {
        return refused.get();
    }

    /** The requests received and not yet answered because of {@link #delay(long)}. */
    public int held() {
        return held.get();
    }

    /** The vector this server gives {@code text}. */
    public static JsonArray vector(String text, int dimension) {
        Random random;
        try {
            byte[] hash = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
            long seed = 0;
            for (int i = 0; i < 8; i++) {
                seed = seed << 8 | (hash[i] & 0xff);
            }
            random = new Random(seed);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        double[] v = new double[dimension];
        double norm = 0;
        for (int i = 0; i < dimension; i++) {
            v[i] = random.nextGaussian();
            norm += v[i] * v[i];
        }
        JsonArray out = new JsonArray();
        for (double x : v) {
            out.add((float) (x / Math.sqrt(norm)));
        }
        return out;
    }

    @Override
    public void close() {
        vertx.close().await();
    }
}
