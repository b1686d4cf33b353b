package io.trisync.embedding;

import io.trisync.concurrent.Backoff;
import io.trisync.config.TrisyncConfig;
import io.trisync.failure.Breaker;
import io.trisync.failure.Failure;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.net.URI;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * An OpenAI-compatible embedding service ({@code POST {EMBEDDING_URL}/embeddings} with {@code
 * {"model", "input": [texts]}}, answered {@code {"data": [{"index", "embedding"}]}}): OpenAI itself,
 * text-embeddings-inference, Ollama, vLLM, Infinity. Texts go {@code EMBEDDING_BATCH_SIZE} to a
 * request, at most {@code EMBEDDING_MAX_CONCURRENCY} requests of this node at once. A 429, a 5xx, a
 * timeout or a lost connection is retried with exponential backoff and full jitter (the {@code
 * Retry-After} of the answer when it gives one); once the retries are spent the service counts as
 * down ({@link Breaker}: calls fail at once with 503, one probe every {@link
 * Failure#RETRY_AFTER_SECONDS} s). Every answer is checked (one vector per text, each index once,
 * the configured dimension) before any vector is used. Blocking, like every {@link EmbeddingModel}.
 */
public final class OpenAiEmbeddingModel implements EmbeddingModel {

    /** The {@link Failure#source()} of the provider's failures and the breaker's name for it. */
    public static final String SOURCE = "embedding";

    private static final int MAX_ATTEMPTS = 5;
    private static final long FIRST_BACKOFF_MS = 200;
    private static final long MAX_BACKOFF_MS = 5_000;
    private static final long MAX_RETRY_AFTER_MS = 30_000;

    private final WebClient client;
    private final URI endpoint;
    private final TrisyncConfig.EmbeddingConfig config;
    private final Semaphore inFlight;
    private final Breaker breaker = new Breaker(Failure.RETRY_AFTER_SECONDS * 1000L, Clock.systemUTC());

    public OpenAiEmbeddingModel(Vertx vertx, TrisyncConfig.EmbeddingConfig config) {
        this.config = config;
        String base = config.url().endsWith("/") ? config.url() : config.url() + "/";
        this.endpoint = URI.create(base).resolve("embeddings");
        this.inFlight = new Semaphore(config.maxConcurrency(), true);
        this.client = WebClient.create(
                vertx,
                new WebClientOptions()
                        .setSsl("https".equals(endpoint.getScheme()))
                        .setUserAgent("trisync"),
                new PoolOptions().setHttp1MaxSize(config.maxConcurrency()));
    }

    /** The model's identity on files and points: the provider's name and the dimension. */
    @Override
    public String name() {
        return config.model() + "@" + config.dimensions();
    }

    @Override
    public int dimension() {
        return config.dimensions();
    }

    @Override
    public List<float[]> embed(List<String> texts) {
        List<float[]> out = new ArrayList<>(texts.size());
        for (int from = 0; from < texts.size(); from += config.batchSize()) {
            out.addAll(batch(texts.subList(from, Math.min(texts.size(), from + config.batchSize()))));
        }
        return out;
    }

    private List<float[]> batch(List<String> texts) {
        Breaker.Decision decision = breaker.check();
        if (decision.store() != null && !decision.probe()) {
            throw new Failure.Unavailable(
                    SOURCE,
                    "the embedding service at " + endpoint + " is unavailable; retry in " + Failure.RETRY_AFTER_SECONDS
                            + "s",
                    null);
        }
        String last = null;
        for (int attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
            long wait;
            try {
                HttpResponse<Buffer> answer = post(texts);
                int status = answer.statusCode();
                if (status == 200) {
                    List<float[]> vectors = vectors(answer, texts.size());
                    breaker.closed(SOURCE);
                    return vectors;
                }
                last = "HTTP " + status + " " + snippet(answer);
                if (status == 400 || status == 413 || status == 422) {
                    // The provider refused this input: sending it again will not help.
                    throw new Failure.BadRequest("the embedding service refused the content: " + last);
                }
                if (status != 429 && status < 500) {
                    // 401, 403, 404…: the node's settings, not the content; not worth a retry either.
                    throw new Failure.Unavailable(
                            SOURCE,
                            "the embedding service at " + endpoint + " refused the request (" + last
                                    + "); check EMBEDDING_URL, EMBEDDING_MODEL and EMBEDDING_API_KEY",
                            null);
                }
                wait = retryAfterMs(answer.getHeader("Retry-After"), attempt);
            } catch (TimeoutException e) {
                last = "no answer within " + config.timeoutSeconds() + " s";
                wait = backoffMs(attempt);
            } catch (ExecutionException e) {
                last = String.valueOf(e.getCause().getMessage());
                wait = backoffMs(attempt);
            }
            if (attempt < MAX_ATTEMPTS) {
                sleep(wait);
            }
        }
        Failure.Unavailable down = new Failure.Unavailable(
                SOURCE, "the embedding service at " + endpoint + " did not answer (" + last + ")", null);
        breaker.record(down);
        throw down;
    }

    private HttpResponse<Buffer> post(List<String> texts) throws TimeoutException, ExecutionException {
        JsonObject body = new JsonObject().put("model", config.model()).put("input", new JsonArray(texts));
        var request = client.postAbs(endpoint.toString()).timeout(config.timeoutSeconds() * 1000L);
        if (!config.apiKey().isBlank()) {
            request.bearerTokenAuthentication(config.apiKey());
        }
        try {
            inFlight.acquire();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Failure.Unavailable(SOURCE, "interrupted while waiting for a request slot", e);
        }
        try {
            return request.sendJsonObject(body)
                    .toCompletionStage()
                    .toCompletableFuture()
                    .get(config.timeoutSeconds() + 5L, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Failure.Unavailable(SOURCE, "interrupted while waiting for the embedding service", e);
        } finally {
            inFlight.release();
        }
    }

    /** The answer's vectors in the order of the texts, or a failure naming what is wrong with it. */
    private List<float[]> vectors(HttpResponse<Buffer> answer, int expected) {
        JsonArray data;
        try {
            data = answer.bodyAsJsonObject().getJsonArray("data");
        } catch (DecodeException | ClassCastException e) {
            throw bad("the answer is not the JSON of an embeddings response");
        }
        if (data == null || data.size() != expected) {
            throw bad("the answer holds " + (data == null ? 0 : data.size()) + " vectors for " + expected + " texts");
        }
        float[][] ordered = new float[expected][];
        for (int i = 0; i < expected; i++) {
            float[] vector;
            int index;
            try {
                JsonObject item = data.getJsonObject(i);
                index = item.getInteger("index", i);
                JsonArray values = item.getJsonArray("embedding");
                if (values == null || values.size() != config.dimensions()) {
                    throw bad("the service answered vectors of " + (values == null ? 0 : values.size())
                            + " dimensions; EMBEDDING_DIMENSIONS is " + config.dimensions());
                }
                vector = new float[values.size()];
                for (int d = 0; d < vector.length; d++) {
                    vector[d] = values.getNumber(d).floatValue();
                }
            } catch (ClassCastException | NullPointerException e) {
                // A value of another type where the answer holds objects, numbers and arrays of numbers.
                throw bad("item " + i + " of the answer's data is not {\"index\": number, \"embedding\": [numbers]}");
            }
            if (index < 0 || index >= expected || ordered[index] != null) {
                throw bad("the answer's indexes are not 0.." + (expected - 1) + " once each");
            }
            String unusable = unusable(vector);
            if (unusable != null) {
                throw bad("the vector of text " + index + " " + unusable);
            }
            ordered[index] = vector;
        }
        return List.of(ordered);
    }

    /**
     * Why {@code vector} cannot be searched by cosine, or null: a value that is not finite (a number
     * too large for a float, which the answer's JSON allows) or no direction at all (every value 0).
     * Stored, such a vector scores NaN and sorts first in every search.
     */
    static String unusable(float[] vector) {
        double norm = 0;
        for (float v : vector) {
            if (!Float.isFinite(v)) {
                return "holds a value that is not a finite float (" + v + ")";
            }
            norm += (double) v * v;
        }
        return norm > 0 ? null : "is all zeros";
    }

    /** An answer that cannot be used: nothing of it is written. */
    private Failure bad(String problem) {
        return new Failure.Unavailable(
                SOURCE, "the embedding service at " + endpoint + " answered wrongly: " + problem, null);
    }

    private static long retryAfterMs(String header, int attempt) {
        if (header != null && header.strip().matches("[0-9]{1,6}")) {
            return Math.min(MAX_RETRY_AFTER_MS, Long.parseLong(header.strip()) * 1000L);
        }
        return backoffMs(attempt);
    }

    /** Exponential backoff with full jitter: a random wait up to 200 ms × 2^(attempt-1), at most 5 s. */
    private static long backoffMs(int attempt) {
        return Backoff.delayMs(FIRST_BACKOFF_MS, MAX_BACKOFF_MS, attempt);
    }

    private static String snippet(HttpResponse<Buffer> answer) {
        String text = answer.bodyAsString();
        return text == null ? "" : text.length() > 200 ? text.substring(0, 200) + "…" : text;
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Failure.Unavailable(SOURCE, "interrupted while backing off", e);
        }
    }
}
