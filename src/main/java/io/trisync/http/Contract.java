package io.trisync.http;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import io.trisync.failure.Failure;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Route;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.json.schema.OutputUnit;
import io.vertx.json.schema.common.dsl.SchemaType;
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
import java.io.IOException;
import java.net.URLDecoder;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The REST contract, {@code openapi.yaml} on the classpath (OpenAPI 3.1), loaded with Vert.x's
 * OpenAPI module: served at {@code /openapi.yaml} and {@code /openapi.json}, and every {@code /api}
 * request is validated against its operation before the handler runs (query, path and header
 * parameters at once; a JSON body once it is read, in {@link Bodies}). A request that breaks it is
 * 400 naming the field; every JSON body's schema says {@code additionalProperties: false}, so a field
 * its operation does not define is refused too, rather than ignored (a typo'd {@code dry_rn} would
 * otherwise apply the repairs it meant to plan). Likewise a query parameter the operation does not
 * declare, one given twice, and a body sent to an operation that takes none ({@link #beforeBody}).
 * The multipart upload's body is left to its handler (the module does not validate multipart
 * bodies); a body of another type sent to it is 415 naming the type and parts it takes. {@link
 * #mismatches} tells whether the routes served and the contract are the same set; the HTTP verticle
 * refuses to start when they are not.
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
        router.route("/openapi.yaml")
                .method(HttpMethod.GET)
                .method(HttpMethod.HEAD)
                .handler(ctx ->
                        Answers.end(ctx.response().putHeader("Content-Type", "text/plain; charset=utf-8"), yaml));
        router.route("/openapi.json")
                .method(HttpMethod.GET)
                .method(HttpMethod.HEAD)
                .handler(ctx -> Answers.end(ctx.response().putHeader("Content-Type", "application/json"), json));
    }

    /**
     * Validates a request that has no body to read here against its operation; one with a JSON body
     * is marked and validated by {@link #afterBody} once read. Before anything is read, a query
     * parameter the operation does not take ({@link QueryParameters}), a body sent to an operation
     * that takes none and one not of {@code multipart/form-data} sent to a multipart operation are
     * refused. A path the contract does not name passes on (to its 404). The path is the one routed
     * ({@code /api//files} and {@code /api/x/../files} are {@code /api/files}).
     */
    void beforeBody(RoutingContext ctx) {
        // A HEAD is the GET without its body (RFC 9110, 9.3.2): validated as the GET it stands for.
        HttpMethod method = ctx.request().method() == HttpMethod.HEAD
                ? HttpMethod.GET
                : ctx.request().method();
        Operation op = contract.findOperation(ctx.normalizedPath(), method);
        if (op == null) {
            ctx.next();
            return;
        }
        String query = QueryParameters.problem(ctx.request().query(), ctx::queryParams, op);
        if (query != null) {
            refuseUnread(ctx, query);
            return;
        }
        for (Parameter p : op.getParameters()) {
            int given = p.getIn() == Location.HEADER
                    ? ctx.request().headers().getAll(p.getName()).size()
                    : 0;
            if (given > 1) {
                // Two If-Match lines were read as the first (the second ignored, so the order decided
                // between 200 and 412), while the same two versions on one line are refused.
                refuseUnread(ctx, p.getName() + ": given " + given + " times (this endpoint takes it once)");
                return;
            }
        }
        String key = unhonouredKey(ctx.request(), op);
        if (key != null) {
            refuseUnread(ctx, key);
            return;
        }
        if (op.getRequestBody() == null && sendsBody(ctx.request())) {
            if (mayBeEmptyObject(ctx.request())) {
                // Many clients send {} to an action that takes nothing (requests.post(url, json={})),
                // some null (a serialised "no value"): read, either is taken as no body, as a JSON
                // operation takes both as every field defaulted; anything else in it is refused. A
                // client that sent Expect: 100-continue sends it only once told to go on.
                if (!Bodies.continueIfExpected(ctx)) {
                    return;
                }
                ctx.request().body().onComplete(read -> {
                    if (read.succeeded() && emptyObject(read.result())) {
                        validate(ctx, op, null);
                    } else {
                        ctx.fail(new Failure.BadRequest(noBody(op)));
                    }
                });
                // The router paused the request for a body handler; this one reads it itself.
                ctx.request().resume();
                return;
            }
            refuseUnread(ctx, noBody(op));
            return;
        }
        if (op.getRequestBody() != null && op.getRequestBody().getContent().containsKey(MULTIPART)) {
            Failure refused = notMultipart(ctx.request(), op);
            if (refused != null) {
                refuseUnread(ctx, refused);
                return;
            }
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

    private static final String MULTIPART = "multipart/form-data";

    /**
     * The refusal of a request to a multipart operation (an upload, a new version) whose body is not
     * {@code multipart/form-data}: 415 naming the type and the parts it takes (a JSON body was
     * answered "user_id is required", as a form without that part would be), 400 when no body was
     * sent at all; null for a multipart body, which its handler reads and checks.
     */
    private static Failure notMultipart(HttpServerRequest request, Operation op) {
        String type = request.getHeader("Content-Type");
        String media = type == null ? null : type.split(";", 2)[0].strip().toLowerCase(Locale.ROOT);
        if (MULTIPART.equals(media)) {
            return null;
        }
        Set<String> parts = bodyFields(op, MULTIPART);
        List<String> files = parts.stream().filter(part -> fileField(op, part)).toList();
        String takes = "body: this endpoint takes Content-Type: " + MULTIPART
                + (parts.isEmpty() ? "" : " with the parts " + String.join(", ", parts))
                + (files.isEmpty()
                        ? ""
                        : " (" + String.join(", ", files) + ": the content, as a file part with a file name)");
        if (!TimeLimits.declaresBody(request)) {
            return new Failure.BadRequest(takes + "; none was sent");
        }
        return new Failure.UnsupportedMediaType(takes + ", not "
                + (media == null || media.isEmpty()
                        ? "a body without a Content-Type"
                        : media.length() <= 100 ? media : media.substring(0, 100) + "…"));
    }

    /** Whether {@code field} of {@code op}'s multipart body is a file ({@code contentMediaType} in the contract). */
    private static boolean fileField(Operation op, String field) {
        Object properties =
                op.getRequestBody().getContent().get(MULTIPART).getSchema().get("properties");
        return properties instanceof JsonObject fields
                && fields.getValue(field) instanceof JsonObject schema
                && schema.containsKey("contentMediaType");
    }

    /** The largest body read to see whether it asks for nothing ({@code {}} or {@code null} with some blanks). */
    private static final int EMPTY_OBJECT_BYTES = 64;

    private static String noBody(Operation op) {
        Set<String> params = QueryParameters.declared(op);
        return "body: this endpoint takes no request body (send none, an empty one, {} or null"
                + (params.isEmpty() ? "" : "; it takes query parameters: " + String.join(", ", params))
                + ")";
    }

    /** A body of a declared length small enough to be read and checked for an empty JSON object. */
    private static boolean mayBeEmptyObject(HttpServerRequest request) {
        String length = request.getHeader("Content-Length");
        if (request.getHeader("Transfer-Encoding") != null || length == null) {
            return false;
        }
        try {
            return Long.parseLong(length.strip()) <= EMPTY_OBJECT_BYTES;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    /**
     * Blank, a JSON object without members, or the literal {@code null}: a body that asks for nothing
     * ({@link #afterBody} takes the blank one and {@code null} as no body as well).
     */
    static boolean emptyObject(Buffer body) {
        String text = body.toString(StandardCharsets.UTF_8).strip();
        if (text.isEmpty() || text.equals("null")) {
            return true;
        }
        if (!text.startsWith("{") || !text.endsWith("}")) {
            return false;
        }
        return text.substring(1, text.length() - 1).isBlank();
    }

    /**
     * Whether an HTTP/1.x request carries a body of at least one byte: a {@code Content-Length} above
     * 0 or a {@code Transfer-Encoding} (a chunked body is refused unread, even one that turns out
     * empty: no client of this API sends one to an operation without a body).
     */
    static boolean sendsBody(HttpServerRequest request) {
        return request.version() != HttpVersion.HTTP_2 && TimeLimits.declaresBody(request);
    }

    /** Fails {@code ctx} 400 with {@code message} before its body (if any) is read. */
    private static void refuseUnread(RoutingContext ctx, String message) {
        refuseUnread(ctx, new Failure.BadRequest(message));
    }

    /**
     * Fails {@code ctx} with {@code refusal} before its body (if any) is read; the connection closes
     * after the answer, so the unread body is never taken for the next request.
     */
    private static void refuseUnread(RoutingContext ctx, Failure refusal) {
        if (!ctx.request().isEnded() && TimeLimits.declaresBody(ctx.request())) {
            ctx.response().putHeader("Connection", "close");
        }
        ctx.fail(refusal);
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
        Map<String, RequestParameter> path = pathValues(op.getOpenAPIPath(), ctx.normalizedPath());
        for (Parameter p : op.getParameters()) {
            if (p.getIn() == Location.QUERY && ctx.queryParams().contains(p.getName())) {
                query.put(p.getName(), asGiven(p, ctx.queryParams().get(p.getName())));
            } else if (p.getIn() == Location.HEADER && ctx.request().getHeader(p.getName()) != null) {
                headers.put(p.getName(), asGiven(p, ctx.request().getHeader(p.getName())));
            } else if (p.getIn() == Location.PATH && path.containsKey(p.getName())) {
                path.put(p.getName(), asGiven(p, path.get(p.getName()).getString()));
            }
        }
        if (body == null && op.getRequestBody() != null && op.getRequestBody().isRequired()) {
            // The validator would say "The related request does not contain the required body".
            Set<String> fields = bodyFields(op);
            ctx.fail(new Failure.BadRequest("body: this endpoint takes a JSON object"
                    + (fields.isEmpty() ? "" : " (fields: " + String.join(", ", fields) + ")")
                    + " with Content-Type: application/json; none was sent"));
            return;
        }
        int malformed = body == null ? -1 : notUtf8At(body);
        if (malformed >= 0) {
            // Jackson decodes an overlong sequence (C0 AF) as the character it spells ('/'), so what a
            // check before this node read and what the handler reads could differ: refused, as RFC 8259
            // says JSON exchanged between systems is UTF-8.
            ctx.fail(new Failure.BadRequest("body: not valid UTF-8 (a malformed byte sequence at byte " + malformed
                    + "; a JSON body is UTF-8: no overlong forms, surrogates or cut-off sequences)"));
            return;
        }
        if (body != null && !isJson(body)) {
            // The validator would say only "The request body can't be decoded".
            ctx.fail(new Failure.BadRequest(
                    "body: not valid JSON (this endpoint takes a JSON object, Content-Type: application/json)"));
            return;
        }
        String repeated = body == null ? null : repeatedField(body);
        if (repeated != null) {
            // Read, the last would count and the first be ignored (what a proxy or a log before this node
            // reads as the field may be the other one): refused, as a query parameter given twice is.
            ctx.fail(new Failure.BadRequest(
                    repeated + ": given more than once (a JSON object names each of its fields once)"));
            return;
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
                ctx.fail(new Failure.BadRequest(message(invalid, op)));
            } else {
                ctx.fail(done.cause());
            }
        });
    }

    /**
     * A parameter's value for the validator. The module reads a value of a string parameter that is
     * not all word characters as JSON first, so a valid id such as {@code 1.5} or {@code -1} became a
     * number and was refused ("Instance type number is invalid. Expected string"): a string
     * parameter's value is handed over as the JSON string it is.
     */
    private static RequestParameter asGiven(Parameter p, String value) {
        return new RequestParameterImpl(
                p.getSchemaType() == SchemaType.STRING && value != null ? Json.encode(value) : value);
    }

    /** Reads a body's field names as Vert.x's parser reads the body (comments allowed); thread-safe. */
    private static final JsonFactory FIELDS =
            JsonFactory.builder().enable(JsonReadFeature.ALLOW_JAVA_COMMENTS).build();

    /**
     * The first field named twice in one object of {@code body} (JSON already), as a path ({@code
     * user_id}, {@code labels.a}, {@code file_ids.0.x}), or null when there is none.
     */
    static String repeatedField(Buffer body) {
        try (JsonParser parser = FIELDS.createParser(body.getBytes())) {
            Deque<Set<String>> objects = new ArrayDeque<>();
            for (JsonToken token = parser.nextToken(); token != null; token = parser.nextToken()) {
                switch (token) {
                    case START_OBJECT -> objects.push(new HashSet<>());
                    case END_OBJECT -> objects.pop();
                    case FIELD_NAME -> {
                        if (!objects.peek().add(parser.currentName())) {
                            String at =
                                    parser.getParsingContext().pathAsPointer().toString();
                            return at.replaceFirst("^/", "")
                                    .replace('/', '.')
                                    .replace("~1", "/")
                                    .replace("~0", "~");
                        }
                    }
                    default -> {}
                }
            }
            return null;
        } catch (IOException | RuntimeException e) {
            // Vert.x's parser took it; a detail this one reads otherwise is not a repeated field.
            return null;
        }
    }

    /** The offset of the first byte of {@code body} that is not well-formed UTF-8, or -1 when it all is. */
    static int notUtf8At(Buffer body) {
        ByteBuffer bytes = ByteBuffer.wrap(body.getBytes());
        CharBuffer chars = CharBuffer.allocate(Math.max(16, bytes.remaining()));
        // Java's decoder refuses overlong forms, encoded surrogates and bytes above U+10FFFF (Unicode's
        // definition of well-formed UTF-8), which Jackson reads without a word.
        CharsetDecoder decoder = StandardCharsets.UTF_8
                .newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        CoderResult result = decoder.decode(bytes, chars, true);
        if (result.isError()) {
            return bytes.position();
        }
        result = decoder.flush(chars);
        return result.isError() ? bytes.position() : -1;
    }

    private static boolean isJson(Buffer body) {
        try {
            body.toJsonValue();
            return true;
        } catch (DecodeException e) {
            return false;
        }
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
            Set<String> methods = new TreeSet<>();
            served.getOperations().forEach(op -> methods.add(op.getHttpMethod().name()));
            if (methods.contains("GET")) {
                // A GET is answered to HEAD too (HttpVerticle; /health, /metrics, /openapi.*).
                methods.add("HEAD");
            }
            return List.copyOf(methods);
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

    /**
     * The validator's finding, led by the field it concerns ({@code limit: …}, {@code dry_run: …}): a
     * body field {@code op} does not define first ({@link #unknownFields}), else the deepest finding.
     */
    String message(ValidatorException invalid, Operation op) {
        if (invalid instanceof SchemaValidationException schema && schema.getOutputUnit() != null) {
            List<String> unknown = unknownFields(schema.getOutputUnit(), bodyFields(op));
            if (!unknown.isEmpty()) {
                return unknownMessage(unknown, op);
            }
            OutputUnit unit = deepest(schema.getOutputUnit());
            String field = unit.getInstanceLocation() == null
                    ? ""
                    : unit.getInstanceLocation().replaceFirst("^#?/?", "").replace('/', '.');
            String reason = unit.getError() == null ? invalid.getMessage() : reason(unit);
            return field.isEmpty() ? invalid.getMessage() : field + ": " + reason;
        }
        return invalid.getMessage();
    }

    private static final Pattern AT_LEAST = Pattern.compile("Instance does not have at least (\\d+) properties");

    /**
     * The validator's reason, put right where it is wrong: it words a {@code maxProperties} finding as
     * the {@code minProperties} one ("does not have at least 32 properties" for 40 labels).
     */
    static String reason(OutputUnit unit) {
        String error = unit.getError();
        if (unit.getKeywordLocation() != null && unit.getKeywordLocation().endsWith("/maxProperties")) {
            Matcher at = AT_LEAST.matcher(error);
            if (at.matches()) {
                return "more than " + at.group(1) + " entries (at most " + at.group(1) + ")";
            }
        }
        return error;
    }

    /**
     * The top-level body fields the validator found against {@code additionalProperties: false} that
     * are not among {@code defined}, in the body's order. (It also lists there a defined field whose
     * value it refused, next to the finding about that value: those are not unknown.)
     */
    private static List<String> unknownFields(OutputUnit unit, Set<String> defined) {
        List<String> out = new ArrayList<>();
        String at = unit.getInstanceLocation() == null
                ? ""
                : unit.getInstanceLocation().replaceFirst("^#?/", "");
        if (unit.getKeywordLocation() != null
                && unit.getKeywordLocation().endsWith("/additionalProperties")
                && !at.isEmpty()
                && !at.contains("/")) {
            String field = at.replace("~1", "/").replace("~0", "~");
            if (!defined.contains(field)) {
                out.add(field);
            }
        }
        if (unit.getErrors() != null) {
            for (OutputUnit child : unit.getErrors()) {
                unknownFields(child, defined).stream()
                        .filter(f -> !out.contains(f))
                        .forEach(out::add);
            }
        }
        return out;
    }

    /** The header a client sends to make a retry return the first request's answer. */
    static final String IDEMPOTENCY_KEY = "Idempotency-Key";

    /**
     * The refusal of an {@code Idempotency-Key} sent to an operation that does not declare it, or null.
     * Ignored, it let a client believe its retries were keyed: a new version sent again under the key
     * of an earlier one, with other bytes, was stored as one more version where an upload answers 422.
     */
    private String unhonouredKey(HttpServerRequest request, Operation op) {
        if (request.getHeader(IDEMPOTENCY_KEY) == null
                || op.getParameters().stream()
                        .anyMatch(p -> p.getIn() == Location.HEADER && IDEMPOTENCY_KEY.equalsIgnoreCase(p.getName()))) {
            return null;
        }
        List<String> taking = contract.operations().stream()
                .filter(other -> other.getParameters().stream()
                        .anyMatch(p -> p.getIn() == Location.HEADER && IDEMPOTENCY_KEY.equalsIgnoreCase(p.getName())))
                .map(other -> other.getHttpMethod().name() + " " + other.getOpenAPIPath())
                .toList();
        return IDEMPOTENCY_KEY + ": this endpoint does not take it, so a retry under it would not be answered from"
                + " the first request (" + String.join(" and ", taking) + " takes it); send the request without it,"
                + " with If-Match where the endpoint takes it to act only on the version you read";
    }

    /**
     * {@code dry_rn: unknown field (this endpoint takes: user_id, dry_run, …)}, and where a field is one
     * another operation takes, which ({@code dry_run} sent to a scan belongs to the repairs).
     */
    private String unknownMessage(List<String> unknown, Operation op) {
        StringBuilder out = new StringBuilder(String.join(", ", unknown))
                .append(unknown.size() == 1 ? ": unknown field" : ": unknown fields")
                .append(" (this endpoint takes: ")
                .append(String.join(", ", bodyFields(op)))
                .append(")");
        for (String field : unknown) {
            List<String> elsewhere = contract.operations().stream()
                    .filter(other -> !other.getOperationId().equals(op.getOperationId())
                            && bodyFields(other).contains(field))
                    .map(other -> other.getHttpMethod().name() + " " + other.getOpenAPIPath())
                    .toList();
            if (!elsewhere.isEmpty()) {
                out.append("; ").append(field).append(" is a field of ").append(String.join(" and ", elsewhere));
            }
        }
        return out.toString();
    }

    /** The fields {@code op}'s JSON body defines, in the contract's order; none for an operation without one. */
    private static Set<String> bodyFields(Operation op) {
        return bodyFields(op, "application/json");
    }

    /** The fields {@code op}'s body of {@code mediaType} defines, in the contract's order; none when it takes no such body. */
    private static Set<String> bodyFields(Operation op, String mediaType) {
        if (op.getRequestBody() == null || op.getRequestBody().getContent().get(mediaType) == null) {
            return Set.of();
        }
        Object properties =
                op.getRequestBody().getContent().get(mediaType).getSchema().get("properties");
        return properties instanceof JsonObject fields ? new LinkedHashSet<>(fields.fieldNames()) : Set.of();
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
                // HEAD beside GET is GET without its body (RFC 9110): the contract documents the GET.
                if (!(method == HttpMethod.HEAD && route.methods().contains(HttpMethod.GET))) {
                    served.add(method.name() + " " + template);
                }
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
