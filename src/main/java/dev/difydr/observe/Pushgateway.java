package dev.difydr.observe;

import io.prometheus.metrics.exporter.pushgateway.Format;
import io.prometheus.metrics.exporter.pushgateway.PushGateway;
import io.prometheus.metrics.exporter.pushgateway.Scheme;
import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Pushes a one-shot run's metrics to a Prometheus Pushgateway, grouped by {@code job="dify-dr"}, the deployment, the
 * command and, for a run of a schedule, the schedule, so that a verify's push never replaces a backup's. It POSTs (the
 * client's {@code pushAdd}): only the metrics of the same name in the group are replaced, so a failed run leaves the
 * last success timestamp that an earlier run pushed in place. The schedule is in the group because of that rule: two
 * schedules of one command (a nightly backup and an hourly Redis backup) would otherwise replace each other's
 * timestamps. A run without a schedule (by hand) has its own group without the key. A push that fails is a warning,
 * never a failed run.
 */
public final class Pushgateway {
    public static final String JOB = "dify-dr";
    private static final Logger log = LoggerFactory.getLogger(Pushgateway.class);

    private final URI url;
    private final Duration timeout;

    public Pushgateway(String url) {
        this(url, Duration.ofSeconds(10));
    }

    Pushgateway(String url, Duration timeout) {
        this.url = URI.create(url);
        this.timeout = timeout;
    }

    /** Pushes everything {@code metrics} holds under the outcome's group; true when the Pushgateway took it. */
    public boolean push(Metrics metrics, JobOutcome outcome) {
        String where = url.getScheme() + "://" + url.getHost() + (url.getPort() == -1 ? "" : ":" + url.getPort());
        try {
            PushGateway.Builder gateway = PushGateway.builder()
                    .scheme("https".equals(url.getScheme()) ? Scheme.HTTPS : Scheme.HTTP)
                    .address(url.getHost() + ":" + (url.getPort() != -1 ? url.getPort() : "https".equals(url.getScheme()) ? 443 : 80))
                    .format(Format.PROMETHEUS_TEXT)
                    .job(JOB)
                    .groupingKey("deployment", outcome.deployment())
                    .groupingKey("command", outcome.job());
            if (outcome.schedule() != null && !outcome.schedule().isBlank()) {
                gateway.groupingKey("schedule", outcome.schedule());
            }
            gateway.registry(metrics.registry().getPrometheusRegistry())
                    .connectionTimeout(timeout)
                    .readTimeout(timeout)
                    .build()
                    .pushAdd();
            log.debug("pushed metrics of {} {} to the Pushgateway at {}", outcome.deployment(), outcome.job(), where);
            return true;
        } catch (IOException | RuntimeException e) {
            log.warn("could not push metrics to the Pushgateway at {} (the run's result stands): {}", where, e.getMessage());
            return false;
        }
    }
}
