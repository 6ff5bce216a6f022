package dev.difydr.config;

/**
 * Where the smoke checks reach Dify: the API ({@code /health}, {@code /console/api/setup}, {@code /console/api/ping},
 * and {@code /v1/info} when an app's API key is given, as {@code appKey} or as a key of a Kubernetes Secret in Dify's
 * namespace, {@code appKeySecret}) and the plugin daemon ({@code /health/check}). Each check is retried until it
 * passes or {@code deadlineSeconds} have passed since the checks began.
 */
public record SmokeConfig(
        String api,
        String pluginDaemon,
        Secret appKey,
        SecretKeyRef appKeySecret,
        Integer deadlineSeconds,
        Double intervalSeconds,
        Integer requestTimeoutSeconds) {

    /** A key of a Kubernetes Secret. */
    public record SecretKeyRef(String name, String key) {
    }

    /** The same checks with the app key given (read from {@code appKeySecret} by the caller). */
    public SmokeConfig withAppKey(Secret key) {
        return new SmokeConfig(api, pluginDaemon, key, null, deadlineSeconds, intervalSeconds, requestTimeoutSeconds);
    }

    public SmokeConfig {
        deadlineSeconds = deadlineSeconds == null ? 300 : deadlineSeconds;
        intervalSeconds = intervalSeconds == null ? 5.0 : intervalSeconds;
        requestTimeoutSeconds = requestTimeoutSeconds == null ? 10 : requestTimeoutSeconds;
    }
}
