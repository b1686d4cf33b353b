package io.trisync.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http.QueryStringDecoder;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.openapi.contract.OpenAPIContract;
import io.vertx.openapi.contract.Operation;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** {@link QueryParameters} against the project's own contract: what each operation's query string may hold. */
class QueryParametersTest {

    private static Vertx vertx;
    private static OpenAPIContract contract;

    @BeforeAll
    static void load() {
        vertx = Vertx.vertx();
        contract = OpenAPIContract.from(vertx, Contract.FILE).await();
    }

    @AfterAll
    static void close() {
        vertx.close().await();
    }

    private static String problem(HttpMethod method, String path, String query) {
        Operation op = contract.findOperation(path, method);
        assertThat(op).as(method + " " + path).isNotNull();
        return QueryParameters.problem(query, () -> parsed(query), op);
    }

    private static MultiMap parsed(String query) {
        MultiMap out = MultiMap.caseInsensitiveMultiMap();
        if (query == null) {
            return out;
        }
        new QueryStringDecoder(query, false).parameters().forEach(out::add);
        return out;
    }

    @Test
    @DisplayName("A parameter the operation does not take is named with the ones it takes, from the contract")
    void unknownNamed() {
        assertThat(problem(HttpMethod.GET, "/api/files", "limt=5"))
                .isEqualTo("limt: unknown query parameter (this endpoint takes: user_id, limit, cursor)");
        assertThat(problem(HttpMethod.GET, "/api/files", "user_id=a&limt=5&x=1"))
                .isEqualTo("limt, x: unknown query parameters (this endpoint takes: user_id, limit, cursor)");
        // Path-level parameters count: user_id is declared on /api/files/{file_id} for all its methods.
        assertThat(problem(HttpMethod.DELETE, "/api/files/f-1", "user_id=a")).isNull();
        assertThat(problem(HttpMethod.DELETE, "/api/files/f-1", "user_id=a&dry_run=true"))
                .isEqualTo("dry_run: unknown query parameter (this endpoint takes: user_id)");
        assertThat(problem(HttpMethod.GET, "/api/v1/sync/operations", "user_id=a"))
                .isEqualTo("user_id: unknown query parameter (this endpoint takes: tenant_id, status, limit)");
    }

    @Test
    @DisplayName("A body field sent as a query parameter says it is one of the body's")
    void bodyFieldInTheQuery() {
        assertThat(problem(HttpMethod.POST, "/api/sync/fix", "dry_run=false"))
                .isEqualTo("dry_run: unknown query parameter (this endpoint takes none);"
                        + " dry_run is a field of its JSON body");
        assertThat(problem(HttpMethod.POST, "/api/files", "user_id=a"))
                .isEqualTo("user_id: unknown query parameter (this endpoint takes none);"
                        + " user_id is a field of its multipart form");
        assertThat(problem(HttpMethod.POST, "/api/sync/consistency-check", "dry_run=true"))
                .isEqualTo("dry_run: unknown query parameter (this endpoint takes none)");
    }

    @Test
    @DisplayName("A parameter given twice is refused; none of the contract's is an array")
    void repeated() {
        assertThat(problem(HttpMethod.GET, "/api/files", "user_id=a&user_id=b"))
                .isEqualTo("user_id: given 2 times (this endpoint takes it once)");
        assertThat(problem(HttpMethod.GET, "/api/files", "user_id=a&limit=1&cursor=c"))
                .isNull();
        assertThat(problem(HttpMethod.GET, "/api/files", null)).isNull();
        assertThat(problem(HttpMethod.GET, "/api/files", "")).isNull();
    }

    @Test
    @DisplayName("An undecodable query string names the parameter and the piece, and a nameless one is said to be so")
    void undecodable() {
        assertThat(problem(HttpMethod.GET, "/api/files", "user_id=a&cursor=%zz"))
                .isEqualTo("cursor: \"cursor=%zz\" is not valid percent-encoding"
                        + " (each % must be followed by two hexadecimal digits)");
        assertThat(problem(HttpMethod.GET, "/api/files", "li%2=5")).startsWith("a query parameter's name: \"li%2=5\"");
        assertThat(problem(HttpMethod.GET, "/api/files", "user_id=a&=5"))
                .isEqualTo("query string: \"=5\" is a parameter without a name");
    }
}
