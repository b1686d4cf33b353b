package io.trisync.store;

import com.mongodb.ErrorCategory;
import com.mongodb.MongoBulkWriteException;
import com.mongodb.MongoException;
import com.mongodb.MongoExecutionTimeoutException;
import com.mongodb.MongoSocketException;
import com.mongodb.MongoTimeoutException;
import com.mongodb.MongoWriteException;
import io.trisync.failure.Failure;
import io.vertx.core.Future;

/** The MongoDB driver's failures as the service's {@link Failure}s, for every MongoDB adapter. */
final class MongoErrors {

    private static final String STORE = "mongodb";

    private MongoErrors() {}

    /** A failed future carrying {@code error} translated to a typed store error where it is one. */
    static <T> Future<T> failed(Throwable error) {
        return Future.failedFuture(translate(error));
    }

    /** Driver errors as typed store errors; decided on exception types and error codes, never on messages. */
    static Throwable translate(Throwable error) {
        if (error instanceof Failure) {
            return error;
        }
        if (error instanceof MongoTimeoutException
                || error instanceof MongoSocketException
                || error instanceof MongoExecutionTimeoutException) {
            return new Failure.Unavailable(STORE, "unreachable: " + error.getMessage(), error);
        }
        if (error instanceof MongoWriteException w
                && ErrorCategory.fromErrorCode(w.getError().getCode()) == ErrorCategory.DUPLICATE_KEY) {
            return new Failure.Conflict(STORE, "duplicate key", error);
        }
        if (error instanceof MongoBulkWriteException b
                && b.getWriteErrors().stream()
                        .anyMatch(e -> ErrorCategory.fromErrorCode(e.getCode()) == ErrorCategory.DUPLICATE_KEY)) {
            return new Failure.Conflict(STORE, "duplicate key in bulk write", error);
        }
        if (error instanceof MongoException m && m.getCode() == 11000) {
            return new Failure.Conflict(STORE, "duplicate key", error);
        }
        return error;
    }
}
