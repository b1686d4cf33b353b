package io.trisync.http;

import io.trisync.failure.Failure;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Route;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.json.schema.OutputUnit;
import io.vertx.openapi.contract.Location;
import io.vertx.openapi.contract.OpenAPIContract;
import io.vertx.openapi.contract.Operation;
import io.vertx.openapi.contract.Parameter;
import io.vertx.openapi.validation.RequestParameter;
import io.vertx.openapi.validation.RequestValidator;
import io.vertx.openapi.validation.SchemaValidationException;
import io.vertx.openapi.validation.ValidatorException;
import io.vertx.openapi.validation.impl.RequestParameterImpl;
import io.vertx.openapi.validation.impl.ValidatableRequestImpl;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The REST contract, {@code openapi.yaml} on the classpath (OpenAPI 3.1), loaded with Vert.x's
 * OpenAPI module: served at {@code /openapi.yaml} and {@code /openapi.json}, and every {@code /api}
 * request is validated against its operation before the handler runs (query, path and header
 * parameters at once; a JSON body once it is read, in {@link Bodies}). A request that breaks it is
 * 400 naming the field. The multipart upload's body is left to its handler (the module does not
 * validate multipart bodies). {@link #mismatches} tells whether the routes served and the contract
 * are the same set; the HTTP verticle refuses to start when they are not.
 */
final class Contract {

    static final String FILE = "openapi.yaml";
    private static final String OPERATION = "trisync.operation";
    private static final String CONTRACT = "trisync.contract";

    private final OpenAPIContract contract;
    private final RequestValidator validator;
    private final Buffer yaml;

    private Contract(Vertx vertx, OpenAPIContract contract, Buffer yaml) {
        this.contract = contract;
        this.validator = RequestValidator.create(vertx, contract);
        this.yaml = yaml;
    }

    static Future<Contract> load(Vertx vertx) {
        return vertx.fileSystem().readFile(FILE).compose(yaml -> OpenAPIContract.from(vertx, FILE)
                .map(c -> new Contract(vertx, c, yaml)));
    }

    /** The document as written (the loaded contract's raw form has its references rewritten). */
    private JsonObject asJson() {
        Map<String, Object> tree = new org.yaml.snakeyaml.Yaml().load(yaml.toString(StandardCharsets.UTF_8));
        return new JsonObject(tree);
    }

    /** {@code GET /openapi.yaml} and {@code GET /openapi.json}. */
    void serve(Router router) {
        String json = asJson().encodePrettily();
        router.get("/openapi.yaml").handler(ctx -> ctx.response()
                .putHeader("Content-Type", "text/plain; charset=utf-8")
                .end(yaml));
        router.get("/openapi.json").handler(ctx -> ctx.response()
                .putHeader("Content-Type", "application/json")
                .end(json));
    }

    /**
     * Validates a request that has no body to read here against its operation; one with a JSON body
     * is marked and validated by {@link #afterBody} once read. A path the contract does not name
     * passes on (to its 404).
     */
    void beforeBody(RoutingContext ctx) {
        Operation op =
                contract.findOperation(ctx.request().path(), ctx.request().method());
        if (op == null) {
            ctx.next();
            return;
        }
        if (op.getRequestBody() != null && op.getRequestBody().getContent().containsKey("multipart/form-data")) {
            // The module validates no multipart body, and a request without one fails its "required":
            // the upload handler checks its own parts and header.
            ctx.next();
            return;
        }
        if (op.getRequestBody() != null) {
            ctx.put(OPERATION, op);
            ctx.put(CONTRACT, this);
            ctx.next();
            return;
        }
        validate(ctx, op, null);
    }

    /** Validates a request {@link #beforeBody} marked, its JSON body now read; any other passes on. */
    static void afterBody(RoutingContext ctx) {
        Operation op = ctx.get(OPERATION);
        Contract contract = ctx.get(CONTRACT);
        if (op == null || contract == null) {
            ctx.next();
            return;
        }
        Buffer body = ctx.body() == null ? null : ctx.body().buffer();
        boolean empty = body == null
                || body.toString().isBlank()
                || body.toString().strip().equals("null");
        // An empty body and the literal null are every field defaulted (the README's rule), not a body.
        contract.validate(ctx, op, empty ? null : body);
    }

    private void validate(RoutingContext ctx, Operation op, Buffer body) {
        Map<String, RequestParameter> query = new HashMap<>();
        Map<String, RequestParameter> headers = new HashMap<>();
        Map<String, RequestParameter> path =
                pathValues(op.getOpenAPIPath(), ctx.request().path());
        for (Parameter p : op.getParameters()) {
            if (p.getIn() == Location.QUERY && ctx.queryParams().contains(p.getName())) {
                query.put(
                        p.getName(), new RequestParameterImpl(ctx.queryParams().get(p.getName())));
            } else if (p.getIn() == Location.HEADER && ctx.request().getHeader(p.getName()) != null) {
                headers.put(p.getName(), new RequestParameterImpl(ctx.request().getHeader(p.getName())));
            }
        }
        var request = new ValidatableRequestImpl(
                Map.of(),
                headers,
                path,
                query,
                new RequestParameterImpl(body),
                body == null ? null : "application/json");
        validator.validate(request, op.getOperationId()).onComplete(done -> {
            if (done.succeeded()) {
                ctx.next();
            } else if (done.cause() instanceof ValidatorException invalid) {
                ctx.fail(new Failure.BadRequest(message(invalid)));
            } else {
                ctx.fail(done.cause());
            }
        });
    }

    /**
     * The methods served on {@code path}, as an {@code Allow} header lists them: the contract's for an
     * API path it names, GET and HEAD for the static files (every path outside {@code /api}), none for
     * an API path it does not name.
     */
    List<String> allowedMethods(String path) {
        if (path == null) {
            return List.of();
        }
        io.vertx.openapi.contract.Path served = contract.findPath(path);
        if (served != null) {
            return served.getOperations().stream()
                    .map(op -> op.getHttpMethod().name())
                    .sorted()
                    .toList();
        }
        return path.startsWith("/api/") ? List.of() : List.of("GET", "HEAD");
    }

    /** The values of {@code template}'s {@code {name}} segments in {@code path}. */
    private static Map<String, RequestParameter> pathValues(String template, String path) {
        Map<String, RequestParameter> out = new HashMap<>();
        String[] names = template.split("/");
        String[] values = path.split("/");
        for (int i = 0; i < names.length && i < values.length; i++) {
            if (names[i].startsWith("{") && names[i].endsWith("}")) {
                out.put(
                        names[i].substring(1, names[i].length() - 1),
                        new RequestParameterImpl(URLDecoder.decode(values[i], StandardCharsets.UTF_8)));
            }
        }
        return out;
    }

    /** The validator's finding, led by the field it concerns ({@code limit: …}, {@code dry_run: …}). */
    static String message(ValidatorException invalid) {
        if (invalid instanceof SchemaValidationException schema && schema.getOutputUnit() != null) {
            OutputUnit unit = deepest(schema.getOutputUnit());
            String field = unit.getInstanceLocation() == null
                    ? ""
                    : unit.getInstanceLocation().replaceFirst("^#?/?", "").replace('/', '.');
            String reason = unit.getError() == null ? invalid.getMessage() : unit.getError();
            return field.isEmpty() ? invalid.getMessage() : field + ": " + reason;
        }
        return invalid.getMessage();
    }

    /**
     * The finding about the deepest field; of findings about the same field, the most specific (the
     * validator lists them flat: "labels.a: Instance type null is invalid. Expected string", at
     * keyword {@code …/additionalProperties/type}, rather than "Property "a" does not match additional
     * properties schema", at {@code …/additionalProperties}).
     */
    private static OutputUnit deepest(OutputUnit unit) {
        OutputUnit best = unit;
        if (unit.getErrors() != null) {
            for (OutputUnit child : unit.getErrors()) {
                OutputUnit candidate = deepest(child);
                int deeper = Integer.compare(depth(candidate), depth(best));
                if (deeper > 0 || (deeper == 0 && keywordDepth(candidate) > keywordDepth(best))) {
                    best = candidate;
                }
            }
        }
        return best;
    }

    private static int keywordDepth(OutputUnit unit) {
        String at = unit.getKeywordLocation();
        return at == null || at.isEmpty() ? 0 : at.split("/").length;
    }

    private static int depth(OutputUnit unit) {
        String at = unit.getInstanceLocation();
        return at == null || at.isEmpty() ? 0 : at.split("/").length;
    }

    /**
     * The differences between the routes of {@code router} under {@code /api}, {@code /health},
     * {@code /metrics} and {@code /openapi.*} and the contract's operations, each as {@code "GET
     * /api/files/{fileId}: served, not in the contract"} or the reverse; empty when they agree.
     */
    List<String> mismatches(Router router) {
        Set<String> served = new TreeSet<>();
        for (Route route : router.getRoutes()) {
            String path = route.getPath();
            if (path == null || route.methods() == null || !documented(path)) {
                continue;
            }
            String template = path.replaceAll(":([A-Za-z0-9_]+)", "{$1}");
            for (HttpMethod method : route.methods()) {
                served.add(method.name() + " " + template);
            }
        }
        Set<String> declared = new TreeSet<>();
        contract.operations().forEach(op -> declared.add(op.getHttpMethod().name() + " " + op.getOpenAPIPath()));
        List<String> out = new ArrayList<>();
        served.stream().filter(s -> !declared.contains(s)).forEach(s -> out.add(s + ": served, not in the contract"));
        declared.stream().filter(d -> !served.contains(d)).forEach(d -> out.add(d + ": in the contract, not served"));
        return out;
    }

    private static boolean documented(String path) {
        return path.startsWith("/api/")
                || path.equals("/health")
                || path.equals("/metrics")
                || path.startsWith("/openapi.");
    }
}
