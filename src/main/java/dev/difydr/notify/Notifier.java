package dev.difydr.notify;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import dev.difydr.config.NotificationConfig;
import dev.difydr.observe.JobOutcome;
import dev.difydr.repository.Json;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends a run's outcome to the notification targets that hear its events: {@code failure} or {@code success}, and
 * {@code drill} for every drill. Each target is tried up to {@code attempts} times with a doubling backoff; all targets
 * together take at most {@code budget}, after which whatever is still pending is abandoned with a warning. A
 * notification never changes the run's exit code. Logs name a target by its type and the URL's origin only, and pass
 * every answer through the configuration's {@link Redaction}.
 */
public final class Notifier {
    private static final Logger log = LoggerFactory.getLogger(Notifier.class);
    private static final int MAX_ANSWER = 300;

    private final List<NotificationConfig> targets;
    private final Redaction redaction;
    private final Clock clock;
    private final int attempts;
    private final Duration backoff;
    private final Duration requestTimeout;
    private final Duration budget;
    private final HttpClient http;

    public Notifier(List<NotificationConfig> targets, Redaction redaction) {
        this(targets, redaction, Clock.systemUTC(), 3, Duration.ofSeconds(1), Duration.ofSeconds(10), Duration.ofSeconds(30));
    }

    Notifier(List<NotificationConfig> targets, Redaction redaction, Clock clock, int attempts, Duration backoff,
             Duration requestTimeout, Duration budget) {
        this.targets = List.copyOf(targets);
        this.redaction = redaction;
        this.clock = clock;
        this.attempts = attempts;
        this.backoff = backoff;
        this.requestTimeout = requestTimeout;
        this.budget = budget;
        // most runs have no target: no client (and its selector thread) for them
        this.http = this.targets.isEmpty() ? null
                : HttpClient.newBuilder().connectTimeout(requestTimeout).followRedirects(HttpClient.Redirect.NEVER).build();
    }

    /** The events an outcome raises. */
    static Set<String> events(JobOutcome outcome) {
        Set<String> events = new LinkedHashSet<>();
        if ("drill".equals(outcome.job())) {
            events.add("drill");
        }
        events.add(outcome.succeeded() ? "success" : "failure");
        return events;
    }

    /** Sends to every target that hears the outcome; returns how many accepted it. Blocks at most the budget. */
    public int send(JobOutcome outcome) {
        Set<String> events = events(outcome);
        List<NotificationConfig> hearing = targets.stream().filter(t -> t.on().stream().anyMatch(events::contains)).toList();
        if (hearing.isEmpty()) {
            return 0;
        }
        String event = events.iterator().next();
        Message message = Message.of(outcome, event, redaction);
        Instant deadline = clock.instant().plus(budget);
        ExecutorService pool = Executors.newFixedThreadPool(hearing.size(), r -> {
            Thread t = new Thread(r, "notify");
            t.setDaemon(true);
            return t;
        });
        List<java.util.concurrent.Future<Boolean>> results = new ArrayList<>();
        for (NotificationConfig target : hearing) {
            results.add(pool.submit(() -> deliver(target, message, deadline)));
        }
        pool.shutdown();
        int delivered = 0;
        for (int i = 0; i < results.size(); i++) {
            try {
                long left = Math.max(0, Duration.between(clock.instant(), deadline).toMillis());
                if (results.get(i).get(left, TimeUnit.MILLISECONDS)) {
                    delivered++;
                }
            } catch (java.util.concurrent.TimeoutException e) {
                log.warn("notification to {} abandoned: no answer within {} s", hearing.get(i).where(), budget.toSeconds());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            } catch (java.util.concurrent.ExecutionException e) {
                log.warn("notification to {} failed: {}", hearing.get(i).where(), redaction.apply(String.valueOf(e.getCause())));
            }
        }
        pool.shutdownNow();
        return delivered;
    }

    private boolean deliver(NotificationConfig target, Message message, Instant deadline) throws InterruptedException {
        TargetType type = TargetType.named(target.type());
        for (int attempt = 1; attempt <= attempts; attempt++) {
            Duration left = Duration.between(clock.instant(), deadline);
            if (left.isNegative() || left.isZero()) {
                break;
            }
            Instant now = clock.instant();
            String failure;
            boolean retriable = true;
            try {
                HttpRequest request = HttpRequest.newBuilder(type.uri(URI.create(target.url()), target.secret(), now))
                        .timeout(left.compareTo(requestTimeout) < 0 ? left : requestTimeout)
                        .header("Content-Type", "application/json; charset=utf-8")
                        .POST(HttpRequest.BodyPublishers.ofString(Json.MAPPER.writeValueAsString(type.body(message, target.secret(), now))))
                        .build();
                HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
                failure = refusal(type, response);
                if (failure == null) {
                    log.info("notified {} of {} {} ({})", target.where(), message.fields().path("job").asText(), message.event(),
                            attempt == 1 ? "first attempt" : "attempt " + attempt);
                    return true;
                }
                int status = response.statusCode();
                retriable = status / 100 != 4 || status == 408 || status == 429;
            } catch (IOException e) {
                failure = e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
            }
            Duration wait = backoff.multipliedBy(1L << (attempt - 1));
            boolean again = retriable && attempt < attempts && clock.instant().plus(wait).isBefore(deadline);
            log.warn("notification to {} failed (attempt {} of {}): {}{}", target.where(), attempt, attempts,
                    redaction.apply(failure), again ? "; retrying in " + wait.toMillis() + " ms" : "; giving up");
            if (!again) {
                break;
            }
            Thread.sleep(wait.toMillis());
        }
        return false;
    }

    private static String refusal(TargetType type, HttpResponse<String> response) {
        String body = response.body() == null ? "" : response.body();
        String shown = body.length() > MAX_ANSWER ? body.substring(0, MAX_ANSWER) + "…" : body;
        if (response.statusCode() / 100 != 2) {
            return "HTTP " + response.statusCode() + (shown.isBlank() ? "" : " " + shown.strip());
        }
        if (!type.answersJson()) {
            return null;
        }
        JsonNode answer;
        try {
            answer = Json.MAPPER.readTree(body);
        } catch (IOException e) {
            answer = MissingNode.getInstance();
        }
        if (answer == null || !answer.isObject()) {
            return "HTTP " + response.statusCode() + " without the JSON answer " + type.name().toLowerCase() + " gives: " + shown.strip();
        }
        return type.refusal(answer);
    }
}
