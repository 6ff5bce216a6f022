package dev.difydr.smoke;

import com.fasterxml.jackson.databind.JsonNode;
import dev.difydr.config.SmokeConfig;
import dev.difydr.repository.Json;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Asks a running Dify whether it works: API health, set-up finished (which only a Dify reading a restored,
 * set-up database answers), ping, plugin daemon health, and an app-key call when a key is configured. Each check is
 * retried until it passes or the shared deadline passes; every outcome is reported, passed or not.
 */
public final class SmokeChecks {
    private static final Logger log = LoggerFactory.getLogger(SmokeChecks.class);

    private final SmokeConfig config;
    private final HttpClient http;

    public SmokeChecks(SmokeConfig config) {
        this.config = config;
        this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(config.requestTimeoutSeconds()))
                .followRedirects(HttpClient.Redirect.NORMAL).build();
    }

    /** One check; {@code probe} marks the health endpoints that {@link #reach()} asks once. */
    private record Check(String name, String url, String bearer, Predicate<Answer> passes, String expected, boolean probe) {
    }

    private record Answer(int status, JsonNode body, String text) {
        String field(String name) {
            return body == null || body.get(name) == null ? null : body.get(name).asText();
        }
    }

    /** The checks the configuration asks for, in the order they run. */
    public List<String> describe() {
        return checks().stream().map(c -> c.name() + ": GET " + c.url() + " expects " + c.expected()).toList();
    }

    private List<Check> checks() {
        List<Check> out = new ArrayList<>();
        if (config.api() != null) {
            String api = trim(config.api());
            out.add(new Check("api health", api + "/health", null, a -> a.status == 200, "200", true));
            out.add(new Check("setup finished", api + "/console/api/setup", null,
                    a -> a.status == 200 && "finished".equals(a.field("step")), "200 with step=finished", false));
            out.add(new Check("api ping", api + "/console/api/ping", null,
                    a -> a.status == 200 && "pong".equals(a.field("result")), "200 with result=pong", false));
            if (config.appKey() != null) {
                out.add(new Check("app key", api + "/v1/info", config.appKey().reveal(), a -> a.status == 200, "200", false));
            }
        }
        if (config.pluginDaemon() != null) {
            out.add(new Check("plugin daemon health", trim(config.pluginDaemon()) + "/health/check", null, a -> a.status == 200, "200", true));
        }
        return out;
    }

    /**
     * One request to each endpoint, for {@code config check}: proves the URLs answer from here, not that Dify is
     * healthy. Throws naming the endpoints that did not answer at all.
     */
    public String reach() {
        List<String> answered = new ArrayList<>();
        List<String> silent = new ArrayList<>();
        for (Check c : checks()) {
            if (c.probe()) {
                Answer a = ask(c);
                (a.status > 0 ? answered : silent).add(c.url() + (a.status > 0 ? " answered " + a.status : ": " + a.text));
            }
        }
        if (!silent.isEmpty()) {
            throw new dev.difydr.DrException(dev.difydr.Failure.SMOKE, "no answer from " + String.join("; ", silent)
                    + " (from outside the cluster, use 'kubectl port-forward' and point the URLs at it)");
        }
        return String.join("; ", answered);
    }

    public List<SmokeResult> run() {
        long deadline = System.nanoTime() + Duration.ofSeconds(config.deadlineSeconds()).toNanos();
        List<SmokeResult> results = new ArrayList<>();
        for (Check c : checks()) {
            long start = System.nanoTime();
            int attempts = 0;
            String detail;
            boolean ok;
            while (true) {
                attempts++;
                Answer a = ask(c);
                ok = a.status > 0 && c.passes().test(a);
                detail = a.status > 0 ? a.status + " " + abbreviate(a.text) : a.text;
                if (ok || System.nanoTime() - deadline > 0) {
                    break;
                }
                log.debug("smoke check '{}' not yet passing: {}", c.name(), detail);
                sleep();
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            log.info("smoke check '{}' {} after {} attempt(s): {}", c.name(), ok ? "passed" : "FAILED", attempts, detail);
            results.add(new SmokeResult(c.name(), c.url(), ok, attempts, Math.round(seconds * 1000) / 1000.0,
                    ok ? detail : detail + " (expected " + c.expected() + ")"));
        }
        return results;
    }

    private Answer ask(Check c) {
        HttpRequest.Builder req = HttpRequest.newBuilder(URI.create(c.url())).timeout(Duration.ofSeconds(config.requestTimeoutSeconds())).GET();
        if (c.bearer() != null) {
            req.header("Authorization", "Bearer " + c.bearer());
        }
        try {
            HttpResponse<String> r = http.send(req.build(), HttpResponse.BodyHandlers.ofString());
            JsonNode body = null;
            try {
                body = Json.MAPPER.readTree(r.body());
            } catch (IOException notJson) {
                // the status code still counts
            }
            return new Answer(r.statusCode(), body, r.body() == null ? "" : r.body().strip());
        } catch (IOException e) {
            return new Answer(0, null, "no answer: " + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Answer(0, null, "interrupted");
        }
    }

    private void sleep() {
        try {
            Thread.sleep((long) (config.intervalSeconds() * 1000));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static String trim(String url) {
        return url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
    }

    private static String abbreviate(String s) {
        String one = s.replaceAll("\\s+", " ");
        return one.length() > 200 ? one.substring(0, 200) + "..." : one;
    }
}
