package io.trisync.store;

import io.trisync.metrics.Metrics;
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
        record(attributes, failed(context.httpResponse().statusCode()));
    }

    @Override
    public void onExecutionFailure(Context.FailedExecution context, ExecutionAttributes attributes) {
        // S3 answered when the SDK raised a service exception; anything else (a timeout, a refused
        // connection, a broken answer) had no answer to judge.
        record(
                attributes,
                !(context.exception() instanceof SdkServiceException answered) || failed(answered.statusCode()));
    }

    /** Whether S3's answer with HTTP {@code status} is a store error. */
    static boolean failed(int status) {
        boolean answered = status >= 200 && status < 300 || status == 404 || status == 409 || status == 412;
        return !answered;
    }

    private void record(ExecutionAttributes attributes, boolean failed) {
        Long started = attributes.getAttribute(STARTED);
        if (started != null) {
            String operation = attributes.getAttribute(SdkExecutionAttribute.OPERATION_NAME);
            metrics.storeRequest("s3", operation == null ? "unknown" : operation, System.nanoTime() - started, failed);
        }
    }
}
