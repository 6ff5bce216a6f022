package dev.difydr.config;

/**
 * The quarterly drill: where its scratch databases go ({@code target}; the {@code postgres} server when unset), the
 * optional drill Dify to smoke-check, and the thresholds that fail the drill when missed.
 */
public record DrillConfig(
        RestoreConfig.PostgresTarget target,
        SmokeConfig smoke,
        Long maxRtoSeconds,
        Long maxRpoSeconds) {

    public static final DrillConfig DEFAULT = new DrillConfig(null, null, null, null);
}
