package dev.difydr.schedule;

import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.quartz.CronTrigger;
import org.quartz.Trigger;

/**
 * What a schedule does about fire times it missed (every scheduler down, or the previous run still going past the
 * next fire time plus Quartz's one-minute misfire threshold): the three policies a Quartz CronTrigger offers.
 */
public enum Misfire {
    /** Run once as soon as possible, however many fire times were missed, then keep to the schedule. */
    FIRE_ONCE_NOW("fireOnceNow", CronTrigger.MISFIRE_INSTRUCTION_FIRE_ONCE_NOW),
    /** Run nothing for the missed fire times; wait for the next one. */
    SKIP("skip", CronTrigger.MISFIRE_INSTRUCTION_DO_NOTHING),
    /** Run once for every missed fire time, one after the other, then keep to the schedule. */
    FIRE_ALL("fireAll", Trigger.MISFIRE_INSTRUCTION_IGNORE_MISFIRE_POLICY);

    private final String word;
    private final int quartzInstruction;

    Misfire(String word, int quartzInstruction) {
        this.word = word;
        this.quartzInstruction = quartzInstruction;
    }

    public String word() {
        return word;
    }

    public int quartzInstruction() {
        return quartzInstruction;
    }

    static Optional<Misfire> of(String word) {
        return Arrays.stream(values()).filter(m -> m.word.equals(word)).findFirst();
    }

    static List<String> words() {
        return Arrays.stream(values()).map(Misfire::word).toList();
    }
}
