package dev.difydr.config;

/**
 * Where the smoke checks reach Dify: the API ({@code /health}, {@code /console/api/setup}, {@code /console/api/ping},
 * and {@code /v1/info} when an {@code appKey} is given) and the plugin daemon ({@code /health/check}). Each check is
 * retried until it passes or {@code deadlineSeconds} have passed since the checks began.
 */
public record SmokeConfig(
        String api,
        String pluginDaemon,
        Secret appKey,
        Integer deadlineSeconds,
        Double intervalSeconds,
        Integer requestTimeoutSeconds) {

    public SmokeConfig {
        deadlineSeconds = deadlineSeconds == null ? 300 : deadlineSeconds;
        intervalSeconds = intervalSeconds == null ? 5.0 : intervalSeconds;
        requestTimeoutSeconds = requestTimeoutSeconds == null ? 10 : requestTimeoutSeconds;
    }
}
