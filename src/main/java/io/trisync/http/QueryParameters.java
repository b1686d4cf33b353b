package io.trisync.http;

import io.netty.handler.codec.http.QueryStringDecoder;
import io.vertx.core.MultiMap;
import io.vertx.core.json.JsonObject;
import io.vertx.json.schema.common.dsl.SchemaType;
import io.vertx.openapi.contract.Location;
import io.vertx.openapi.contract.MediaType;
import io.vertx.openapi.contract.Operation;
import io.vertx.openapi.contract.Parameter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * The query string of a request to an operation of the contract, checked before the operation's
 * schemas are: every parameter must be one the operation declares, given once (none is an array),
 * and the query string must be valid percent-encoding. A parameter the operation does not take was
 * ignored before, so {@code ?limt=5} listed with the default limit and {@code ?dry_run=true} on an
 * operation whose dry run is a body field was applied for real; both are refused now, naming the
 * parameter and what the operation takes, as an unknown body field is ({@link Contract#message}). The
 * names come from the contract: nothing here lists them.
 */
final class QueryParameters {

    private QueryParameters() {}

    /**
     * What is wrong with the query string {@code raw} ({@code null}: none) for {@code op}; null when
     * nothing is. {@code params} is the string decoded as the handlers read it (Vert.x's {@code
     * queryParams()}, which fails on an undecodable string: asked only once {@code raw} decodes).
     */
    static String problem(String raw, Supplier<MultiMap> params, Operation op) {
        String malformed = malformed(raw);
        if (malformed != null) {
            return malformed;
        }
        MultiMap given = params.get();
        Set<String> declared = declared(op);
        List<String> unknown = new ArrayList<>();
        List<String> repeated = new ArrayList<>();
        for (String name : new LinkedHashSet<>(given.names())) {
            if (!declared.contains(name)) {
                unknown.add(name);
            } else if (given.getAll(name).size() > 1 && !isArray(op, name)) {
                repeated.add(name + ": given " + given.getAll(name).size() + " times (this endpoint takes it once)");
            }
        }
        if (!unknown.isEmpty()) {
            return unknownMessage(unknown, declared, op);
        }
        return repeated.isEmpty() ? null : String.join("; ", repeated);
    }

    /**
     * The first piece of {@code raw} that is not valid percent-encoding (Vert.x would say only "Error
     * while decoding query params") or has no name, as the 400's message; null when there is none.
     */
    static String malformed(String raw) {
        if (raw == null || raw.isEmpty()) {
            return null;
        }
        for (String piece : raw.split("[&;]")) {
            int eq = piece.indexOf('=');
            if (eq == 0 && piece.length() > 1) {
                // Netty would read "=5" as a parameter named "5".
                return "query string: \"" + abbreviated(piece) + "\" is a parameter without a name";
            }
            String name = eq < 0 ? piece : piece.substring(0, eq);
            String shown;
            try {
                shown = shown(QueryStringDecoder.decodeComponent(name, StandardCharsets.UTF_8));
            } catch (IllegalArgumentException e) {
                shown = "a query parameter's name";
            }
            try {
                QueryStringDecoder.decodeComponent(piece, StandardCharsets.UTF_8);
            } catch (IllegalArgumentException e) {
                return shown + ": \"" + abbreviated(piece)
                        + "\" is not valid percent-encoding (each % must be followed by two hexadecimal digits)";
            }
        }
        return null;
    }

    /** The query parameters {@code op} takes, path-level ones included, in the contract's order. */
    static Set<String> declared(Operation op) {
        Set<String> out = new LinkedHashSet<>();
        for (Parameter p : op.getParameters()) {
            if (p.getIn() == Location.QUERY) {
                out.add(p.getName());
            }
        }
        return out;
    }

    private static boolean isArray(Operation op, String name) {
        return op.getParameters().stream()
                .anyMatch(p -> p.getIn() == Location.QUERY
                        && p.getName().equals(name)
                        && p.getSchemaType() == SchemaType.ARRAY);
    }

    /**
     * {@code limt: unknown query parameter (this endpoint takes: user_id, limit, cursor)}, and where
     * the name is a field of the operation's body, that it belongs there ({@code ?dry_run=false} to
     * {@code POST /api/sync/fix}).
     */
    private static String unknownMessage(List<String> unknown, Set<String> declared, Operation op) {
        StringBuilder out = new StringBuilder(String.join(
                        ", ", unknown.stream().map(QueryParameters::shown).toList()))
                .append(unknown.size() == 1 ? ": unknown query parameter" : ": unknown query parameters")
                .append(
                        declared.isEmpty()
                                ? " (this endpoint takes none)"
                                : " (this endpoint takes: " + String.join(", ", declared) + ")");
        for (String name : unknown) {
            String where = bodyHolding(op, name);
            if (where != null) {
                out.append("; ").append(name).append(" is a field of its ").append(where);
            }
        }
        return out.toString();
    }

    /** "JSON body" or "multipart form" when {@code op}'s request body defines the field {@code name}; else null. */
    private static String bodyHolding(Operation op, String name) {
        if (op.getRequestBody() == null) {
            return null;
        }
        for (Map.Entry<String, MediaType> type :
                op.getRequestBody().getContent().entrySet()) {
            Object properties = type.getValue().getSchema().get("properties");
            if (properties instanceof JsonObject fields && fields.containsKey(name)) {
                return type.getKey().equals("multipart/form-data") ? "multipart form" : "JSON body";
            }
        }
        return null;
    }

    /** A name as a message shows it, shortened. */
    static String shown(String name) {
        return abbreviated(name);
    }

    private static String abbreviated(String text) {
        return text.length() <= 64 ? text : text.substring(0, 64) + "…";
    }
}
