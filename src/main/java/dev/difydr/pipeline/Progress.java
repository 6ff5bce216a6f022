package dev.difydr.pipeline;

import java.time.Duration;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reports bytes moved: a progress bar on an interactive terminal, otherwise a log line every few seconds.
 * Calls to {@link #advance} are cheap; reporting happens at most once per interval.
 */
public abstract class Progress implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Progress.class);

    public abstract void advance(long bytes);

    @Override
    public abstract void close();

    public static Progress none() {
        return new Progress() {
            @Override
            public void advance(long bytes) {
            }

            @Override
            public void close() {
            }
        };
    }

    /** A bar when stderr is a terminal and output is for people; periodic log lines otherwise. */
    public static Progress start(String label, boolean interactive) {
        return interactive ? new Bar(label) : new LogLines(label, Duration.ofSeconds(5));
    }

    private static final class Bar extends Progress {
        private final ProgressBar bar;

        Bar(String label) {
            bar = new ProgressBarBuilder().setTaskName(label).setInitialMax(-1).setStyle(ProgressBarStyle.ASCII)
                    .setUnit("MiB", 1 << 20).showSpeed().setUpdateIntervalMillis(500).continuousUpdate().build();
        }

        @Override
        public void advance(long bytes) {
            bar.stepBy(bytes);
        }

        @Override
        public void close() {
            bar.close();
        }
    }

    private static final class LogLines extends Progress {
        private final String label;
        private final long intervalNanos;
        private final long started = System.nanoTime();
        private long lastReport = started;
        private long total;

        LogLines(String label, Duration interval) {
            this.label = label;
            this.intervalNanos = interval.toNanos();
        }

        @Override
        public void advance(long bytes) {
            total += bytes;
            long now = System.nanoTime();
            if (now - lastReport >= intervalNanos) {
                lastReport = now;
                double seconds = (now - started) / 1e9;
                log.info("{}: {} read, {}/s", label, Bytes.human(total), Bytes.human((long) (total / seconds)));
            }
        }

        @Override
        public void close() {
        }
    }
}
