package dev.difydr.schedule;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.difydr.DrException;
import dev.difydr.Failure;
import dev.difydr.backup.BackupComponents;
import dev.difydr.config.ConfigLoader;
import dev.difydr.config.Durations;
import dev.difydr.retention.RetentionPolicy;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Reads every {@code *.yaml} and {@code *.yml} file of a schedules directory, one schedule per file, and validates
 * them with the configuration's rules: every problem of every file at once, each as {@code FILE: key: problem}.
 */
public final class ScheduleLoader {
    /** What a Kubernetes CronJob's name allows, leaving room for a release prefix within its 52 characters. */
    static final int MAX_NAME = 40;
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory())
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    public List<Schedule> load(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new DrException(Failure.CONFIG, "schedules directory " + dir + " not found: pass --schedules DIR");
        }
        List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.filter(p -> p.getFileName().toString().matches(".+\\.ya?ml") && Files.isRegularFile(p)).sorted().toList();
        } catch (IOException e) {
            throw new DrException(Failure.CONFIG, "cannot list schedules directory " + dir + ": " + e.getMessage());
        }
        if (files.isEmpty()) {
            throw new DrException(Failure.CONFIG, "no schedule files (*.yaml) in " + dir);
        }
        List<String> problems = new ArrayList<>();
        List<Schedule> schedules = new ArrayList<>();
        Map<String, Path> names = new LinkedHashMap<>();
        for (Path file : files) {
            List<String> fileProblems = new ArrayList<>();
            Schedule s = read(file, fileProblems);
            if (s != null && s.name() != null) {
                Path other = names.putIfAbsent(s.name(), file);
                if (other != null) {
                    fileProblems.add("name: '" + s.name() + "' is also the name of the schedule in " + other + "; names must be unique");
                }
            }
            fileProblems.forEach(p -> problems.add(file + ": " + p));
            if (fileProblems.isEmpty()) {
                schedules.add(s);
            }
        }
        if (!problems.isEmpty()) {
            throw new DrException(Failure.CONFIG, "invalid schedules in " + dir + ":\n  - " + String.join("\n  - ", problems));
        }
        return List.copyOf(schedules);
    }

    /** The schedule of one file, or null when it cannot be read at all; what is wrong goes to {@code problems}. */
    private static Schedule read(Path file, List<String> problems) {
        JsonNode tree;
        try {
            tree = YAML.readTree(Files.readString(file, StandardCharsets.UTF_8));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            // SnakeYAML's message quotes the text with a caret under it on indented lines: keep the sentences only
            String what = String.join("; ", e.getOriginalMessage().lines().filter(l -> !l.isBlank() && !l.startsWith(" ")).toList());
            problems.add("not valid YAML: " + what + (e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ")"));
            return null;
        } catch (IOException e) {
            problems.add("cannot read: " + e.getMessage());
            return null;
        }
        if (tree == null || !tree.isObject()) {
            problems.add("must be a YAML mapping with at least name, cron and job");
            return null;
        }
        ConfigLoader.checkKeys(tree, ScheduleFile.class, "", problems);
        // A value of the wrong type is reported and left out, so that the other keys are still checked.
        for (int attempt = 0; attempt < 32; attempt++) {
            try {
                return validate(YAML.convertValue(tree, ScheduleFile.class), file, problems);
            } catch (IllegalArgumentException e) {
                problems.add(ConfigLoader.bindingProblem(e));
                if (!(e.getCause() instanceof JsonMappingException jme) || !remove(tree, jme.getPath())) {
                    return null;
                }
            }
        }
        return null;
    }

    /** Removes the value a binding failure points at; false when the path does not lead to one. */
    private static boolean remove(JsonNode tree, List<JsonMappingException.Reference> path) {
        JsonNode node = tree;
        for (int i = 0; i < path.size(); i++) {
            JsonMappingException.Reference r = path.get(i);
            boolean last = i == path.size() - 1;
            if (r.getFieldName() != null && node instanceof ObjectNode object && object.has(r.getFieldName())) {
                if (last) {
                    object.remove(r.getFieldName());
                    return true;
                }
                node = object.get(r.getFieldName());
            } else if (r.getIndex() >= 0 && node instanceof ArrayNode array && r.getIndex() < array.size()) {
                if (last) {
                    array.remove(r.getIndex());
                    return true;
                }
                node = array.get(r.getIndex());
            } else {
                return false;
            }
        }
        return false;
    }

    private static Schedule validate(ScheduleFile f, Path file, List<String> problems) {
        String name = f.name();
        if (name == null || name.isBlank()) {
            problems.add("name: missing required key (lower-case letters, digits and '-', e.g. nightly-backup)");
            name = null;
        } else if (!name.matches("[a-z0-9]([-a-z0-9]*[a-z0-9])?") || name.length() > MAX_NAME) {
            problems.add("name: '" + name + "' must be 1-" + MAX_NAME + " lower-case letters, digits or '-', starting and ending"
                    + " with a letter or digit (it becomes part of a Kubernetes CronJob name)");
        }
        CronSchedule cron = null;
        try {
            cron = CronSchedule.parse(f.cron());
        } catch (CronSchedule.InvalidCron e) {
            e.problems().forEach(p -> problems.add("cron: " + p));
        }
        ZoneId zone = null;
        String zoneText = f.timeZone() == null ? "UTC" : f.timeZone();
        if (ZoneId.getAvailableZoneIds().contains(zoneText)) {
            zone = ZoneId.of(zoneText);
        } else {
            problems.add("timeZone: '" + zoneText + "' is not an IANA time zone name (like UTC, Europe/Berlin, Asia/Shanghai)"
                    + ConfigLoader.suggestion(zoneText, ZoneId.getAvailableZoneIds()));
        }
        JobKind job = null;
        if (f.job() == null) {
            problems.add("job: missing required key; use one of " + String.join(", ", JobKind.commands()));
        } else {
            job = JobKind.of(f.job()).orElse(null);
            if (job == null) {
                problems.add("job: '" + f.job() + "' must be one of " + String.join(", ", JobKind.commands())
                        + ConfigLoader.suggestion(f.job(), JobKind.commands()));
            }
        }
        Misfire misfire = Misfire.FIRE_ONCE_NOW;
        if (f.misfire() != null) {
            misfire = Misfire.of(f.misfire()).orElse(null);
            if (misfire == null) {
                problems.add("misfire: '" + f.misfire() + "' must be one of " + String.join(", ", Misfire.words())
                        + ConfigLoader.suggestion(f.misfire(), Misfire.words()));
            }
        }
        if (f.lockWait() != null && Durations.parse(f.lockWait()).isEmpty()) {
            problems.add("lockWait: '" + f.lockWait() + "' must be a duration (" + Durations.EXAMPLES + ")");
        }
        if (job != null) {
            Map<String, Object> given = new LinkedHashMap<>();
            given.put("components", f.components());
            given.put("readData", f.readData());
            given.put("strict", f.strict());
            given.put("retention", f.retention());
            for (Map.Entry<String, Object> option : given.entrySet()) {
                if (option.getValue() != null && !job.takes(option.getKey())) {
                    problems.add(option.getKey() + ": only for job " + JobKind.takers(option.getKey()) + ", not " + job.command());
                }
            }
        }
        if (f.components() != null) {
            if (f.components().isEmpty()) {
                problems.add("components: the list is empty; name at least one of " + String.join(", ", BackupComponents.KINDS) + " (or leave the key out for all)");
            }
            for (int i = 0; i < f.components().size(); i++) {
                String c = f.components().get(i);
                if (!BackupComponents.KINDS.contains(c)) {
                    problems.add("components[" + i + "]: '" + c + "' must be one of " + String.join(", ", BackupComponents.KINDS)
                            + (c == null ? "" : ConfigLoader.suggestion(c, BackupComponents.KINDS)));
                }
            }
        }
        if (f.retention() != null) {
            validateRetention(f.retention(), problems);
        }
        boolean enabled = f.enabled() == null || f.enabled();
        if (cron != null && zone != null && enabled && cron.next(zone, Instant.now(), 1).isEmpty()) {
            problems.add("cron: '" + cron.cron() + "' never fires (no such day in the months it names)");
        }
        if (!problems.isEmpty()) {
            return name == null ? null : new Schedule(name, cron, zone, job, enabled, misfire, List.of(), file);
        }
        return new Schedule(name, cron, zone, job, enabled, misfire, arguments(f, job), file);
    }

    private static void validateRetention(ScheduleFile.Retention r, List<String> problems) {
        problems.addAll(RetentionPolicy.problems("retention", r.asConfig()));
        if (r.keepLast() == null && r.keepHourly() == null && r.keepDaily() == null && r.keepWeekly() == null
                && r.keepMonthly() == null && r.keepYearly() == null && r.keepWithin() == null) {
            problems.add("retention: names no keep rule; give at least one of keepLast, keepHourly, keepDaily, keepWeekly,"
                    + " keepMonthly, keepYearly, keepWithin (or leave retention out to use the configuration's)");
        }
    }

    /** The dify-dr command line of the job, without the global options. */
    private static List<String> arguments(ScheduleFile f, JobKind job) {
        List<String> args = new ArrayList<>();
        args.add(job.command());
        switch (job) {
            case BACKUP -> {
                if (f.components() != null) {
                    args.addAll(List.of("--only", String.join(",", f.components())));
                }
            }
            case VERIFY, DRILL -> {
                args.add("latest");
                if (Boolean.TRUE.equals(f.readData())) {
                    args.add("--read-data");
                }
                if (Boolean.TRUE.equals(f.strict())) {
                    args.add("--strict");
                }
            }
            case PRUNE -> {
                args.add("--yes");
                ScheduleFile.Retention r = f.retention();
                if (r != null) {
                    flag(args, "--keep-last", r.keepLast());
                    flag(args, "--keep-hourly", r.keepHourly());
                    flag(args, "--keep-daily", r.keepDaily());
                    flag(args, "--keep-weekly", r.keepWeekly());
                    flag(args, "--keep-monthly", r.keepMonthly());
                    flag(args, "--keep-yearly", r.keepYearly());
                    flag(args, "--keep-within", r.keepWithin());
                    flag(args, "--min-keep", r.minKeep());
                }
            }
        }
        flag(args, "--lock-wait", f.lockWait());
        return args;
    }

    private static void flag(List<String> args, String flag, Object value) {
        if (value != null) {
            args.add(flag);
            args.add(value.toString());
        }
    }
}
