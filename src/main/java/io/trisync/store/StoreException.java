package io.trisync.store;

/**
 * A store operation that failed for a reason callers act on. Adapters translate driver errors into
 * one of the subclasses, so nobody upstream parses driver messages; {@link #failureCode()} is the
 * HTTP-like code the event bus and the REST API report.
 */
public abstract sealed class StoreException extends RuntimeException
        permits StoreException.Unavailable, StoreException.NotFound, StoreException.Conflict {

    private final String store;

    protected StoreException(String store, String message, Throwable cause) {
        super(store + ": " + message, cause);
        this.store = store;
    }

    /** Which store failed: {@code mongodb}, {@code s3} or {@code qdrant}. */
    public String store() {
        return store;
    }

    /** HTTP-like code for this failure (503, 404 or 409). */
    public abstract int failureCode();

    /** Whether retrying the same call later may succeed. */
    public boolean retriable() {
        return false;
    }

    /** The store cannot be reached or timed out; the call may succeed later. */
    public static final class Unavailable extends StoreException {
        public Unavailable(String store, String message, Throwable cause) {
            super(store, message, cause);
        }

        @Override
        public int failureCode() {
            return 503;
        }

        @Override
        public boolean retriable() {
            return true;
        }
    }

    /** The thing asked for does not exist. */
    public static final class NotFound extends StoreException {
        public NotFound(String store, String message) {
            super(store, message, null);
        }

        @Override
        public int failureCode() {
            return 404;
        }
    }

    /** The write clashes with what the store holds (duplicate key, precondition failed). */
    public static final class Conflict extends StoreException {
        public Conflict(String store, String message, Throwable cause) {
            super(store, message, cause);
        }

        @Override
        public int failureCode() {
            return 409;
        }
    }
}
