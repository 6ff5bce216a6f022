package dev.difydr.cli;

import dev.difydr.config.Durations;
import java.time.Duration;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

/** {@code --lock-wait}: how long a command waits for a conflicting repository lock before it exits 7. */
final class LockWait {
    @Option(names = "--lock-wait", paramLabel = "DURATION", defaultValue = "0", converter = Converter.class,
            description = "Wait up to this long for a conflicting run's repository lock (default 0: fail at once with exit 7), "
                    + Durations.EXAMPLES + ".")
    Duration value;

    static final class Converter implements ITypeConverter<Duration> {
        @Override
        public Duration convert(String text) {
            return Durations.parse(text).orElseThrow(() ->
                    new TypeConversionException("'" + text + "' is not a duration (" + Durations.EXAMPLES + ")"));
        }
    }
}
