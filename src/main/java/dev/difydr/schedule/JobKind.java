package dev.difydr.schedule;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/** The commands a schedule can run, and the option keys of a schedule file each one takes. */
public enum JobKind {
    BACKUP(Set.of("components")),
    VERIFY(Set.of("readData")),
    DRILL(Set.of("readData", "strict")),
    PRUNE(Set.of("retention"));

    /** Option keys some job takes; {@code lockWait} is common to all and not listed. */
    static final List<String> OPTION_KEYS = List.of("components", "readData", "strict", "retention");

    private final Set<String> options;

    JobKind(Set<String> options) {
        this.options = options;
    }

    public String command() {
        return name().toLowerCase(Locale.ROOT);
    }

    boolean takes(String option) {
        return options.contains(option);
    }

    /** The jobs that take an option key, as words for a message. */
    static String takers(String option) {
        return String.join(" or ", Arrays.stream(values()).filter(j -> j.takes(option)).map(JobKind::command).toList());
    }

    static Optional<JobKind> of(String command) {
        return Arrays.stream(values()).filter(j -> j.command().equals(command)).findFirst();
    }

    static List<String> commands() {
        return Arrays.stream(values()).map(JobKind::command).toList();
    }
}
