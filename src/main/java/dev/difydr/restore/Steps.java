package dev.difydr.restore;

import dev.difydr.DrException;
import java.time.Clock;
import java.util.List;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs named steps into a list of {@link Journal.StepRecord}s: each is timed, saved when it starts and when it
 * ends, and skipped when the list already shows it completed (which is how a resumed run continues).
 */
public final class Steps {
    private static final Logger log = LoggerFactory.getLogger(Steps.class);

    private final List<Journal.StepRecord> records;
    private final Runnable save;
    private final StepListener listener;
    private final Clock clock;

    public Steps(List<Journal.StepRecord> records, Runnable save, StepListener listener, Clock clock) {
        this.records = records;
        this.save = save;
        this.listener = listener;
        this.clock = clock;
    }

    /** Runs a step whose body returns a one-line account of what it did. */
    public void run(String name, Supplier<String> body) {
        Journal.StepRecord r = records.stream().filter(s -> s.name.equals(name)).findFirst().orElse(null);
        if (r != null && r.status == Journal.StepStatus.COMPLETED) {
            return;
        }
        listener.before(name);
        if (r == null) {
            r = new Journal.StepRecord(name);
            records.add(r);
        }
        r.status = Journal.StepStatus.RUNNING;
        r.startedAt = clock.instant();
        r.finishedAt = null;
        r.error = null;
        save.run();
        log.info("step {}: started", name);
        long start = System.nanoTime();
        try {
            r.detail = body.get();
        } catch (RuntimeException e) {
            r.status = Journal.StepStatus.FAILED;
            r.error = e instanceof DrException d ? d.getMessage() : e.toString();
            finish(r, start);
            log.error("step {}: failed after {} s: {}", name, r.seconds, r.error);
            throw e;
        }
        r.status = Journal.StepStatus.COMPLETED;
        finish(r, start);
        log.info("step {}: completed in {} s{}", name, r.seconds, r.detail == null || r.detail.isEmpty() ? "" : ": " + r.detail);
        listener.after(name);
    }

    /**
     * Runs a step like {@link #run}, but a failure is recorded in the step and the log instead of thrown: a rollback
     * attempts every action, whatever happened to the one before.
     */
    public boolean attempt(String name, Supplier<String> body) {
        try {
            run(name, body);
            return true;
        } catch (RuntimeException e) {
            return false;
        }
    }

    /**
     * Forgets every step from the first one that did not complete: when steps are attempted past a failure, a later
     * step that completed was based on the failed one, so a second run must do it again.
     */
    public void redoFromFirstUnfinished() {
        for (int i = 0; i < records.size(); i++) {
            if (records.get(i).status != Journal.StepStatus.COMPLETED) {
                records.subList(i, records.size()).clear();
                return;
            }
        }
    }

    private void finish(Journal.StepRecord r, long start) {
        r.finishedAt = clock.instant();
        r.seconds = Math.round((System.nanoTime() - start) / 1e6) / 1000.0;
        save.run();
    }
}
