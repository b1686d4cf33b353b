package io.trisync.store;

import io.trisync.metrics.Metrics;
import java.util.Set;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.SdkServiceException;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttribute;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.core.interceptor.SdkExecutionAttribute;

/**
 * Times every S3 call the SDK makes (retries included), by the SDK's operation name ({@code PutObject}, …),
 * and counts the failed ones as store errors. An answer the adapter expects is not a failure: 404 (a
 * HEAD or GET of a blob that is not there, which scans and downloads meet wherever a blob is missing)
 * and 409/412 (a conditional write that lost), which {@link S3BlobStore#translate} makes {@code
 * NotFound} and {@code Conflict}. Every other error answer, a timeout and an unreachable S3 count.
 */
final class S3Timing implements ExecutionInterceptor {

    private static final ExecutionAttribute<Long> STARTED = new ExecutionAttribute<>("trisync.started");

    private final Metrics metrics;

    S3Timing(Metrics metrics) {
        this.metrics = metrics;
    }

    @Override
    public void beforeExecution(Context.BeforeExecution context, ExecutionAttributes attributes) {
        attributes.putAttribute(STARTED, System.nanoTime());
    }

    @Override
    public void afterExecution(Context.AfterExecution context, ExecutionAttributes attributes) {
        record(
                attributes,
                failed(
                        context.httpResponse().statusCode(),
                        attributes.getAttribute(SdkExecutionAttribute.OPERATION_NAME),
                        null));
    }

    @Override
    public void onExecutionFailure(Context.FailedExecution context, ExecutionAttributes attributes) {
        // S3 answered when the SDK raised a service exception; anything else (a timeout, a refused
        // connection, a broken answer) had no answer to judge.
        record(
                attributes,
                !(context.exception() instanceof SdkServiceException answered)
                        || failed(
                                answered.statusCode(),
                                attributes.getAttribute(SdkExecutionAttribute.OPERATION_NAME),
                                answered instanceof AwsServiceException aws && aws.awsErrorDetails() != null
                                        ? aws.awsErrorDetails().errorCode()
                                        : null));
    }

    /** Reads of one object (and the bucket's HEAD at start), whose 404 is an answer: it is not there. */
    private static final Set<String> OBJECT_READS = Set.of("GetObject", "HeadObject", "HeadBucket");

    /**
     * Whether S3's answer with HTTP {@code status} to {@code operation} is a store error: a missing
     * object (404 {@code NoSuchKey}, or a 404 to a read of one object) and a lost condition (409, 412)
     * are answers; a 404 to a listing or a write (a bucket gone: every such call then answers so) is
     * an error.
     */
    static boolean failed(int status, String operation, String errorCode) {
        if (status >= 200 && status < 300 || status == 409 || status == 412) {
            return false;
        }
        if (status == 404) {
            return !("NoSuchKey".equals(errorCode) || OBJECT_READS.contains(operation));
        }
        return true;
    }

    private void record(ExecutionAttributes attributes, boolean failed) {
        Long started = attributes.getAttribute(STARTED);
        if (started != null) {
            String operation = attributes.getAttribute(SdkExecutionAttribute.OPERATION_NAME);
            metrics.storeRequest("s3", operation == null ? "unknown" : operation, System.nanoTime() - started, failed);
        }
    }
}
