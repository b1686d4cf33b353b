package io.trisync.store;

import io.trisync.metrics.Metrics;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttribute;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.core.interceptor.SdkExecutionAttribute;

/** Times every S3 call the SDK makes (retries included), by the SDK's operation name ({@code PutObject}, …). */
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
        record(attributes, !context.httpResponse().isSuccessful());
    }

    @Override
    public void onExecutionFailure(Context.FailedExecution context, ExecutionAttributes attributes) {
        record(attributes, true);
    }

    private void record(ExecutionAttributes attributes, boolean failed) {
        Long started = attributes.getAttribute(STARTED);
        if (started != null) {
            String operation = attributes.getAttribute(SdkExecutionAttribute.OPERATION_NAME);
            metrics.storeRequest("s3", operation == null ? "unknown" : operation, System.nanoTime() - started, failed);
        }
    }
}
