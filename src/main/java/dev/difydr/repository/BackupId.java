package dev.difydr.repository;

import java.security.SecureRandom;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.regex.Pattern;

/**
 * A backup's id: its UTC start time and a short random suffix, so that ids sort by time ({@code 20261122T060000Z-k3m9qa}).
 * Restores and drills are named the same way.
 */
public record BackupId(String value) implements Comparable<BackupId> {
    private static final Pattern FORMAT = Pattern.compile("\\d{8}T\\d{6}Z-[a-z0-9]{6}");
    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);
    private static final String ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789";
    private static final SecureRandom RANDOM = new SecureRandom();

    public BackupId {
        if (!isValid(value)) {
            throw new IllegalArgumentException("'" + value + "' is not a backup id (expected e.g. 20261122T060000Z-k3m9qa)");
        }
    }

    public static boolean isValid(String value) {
        return value != null && FORMAT.matcher(value).matches();
    }

    public static BackupId at(Instant time) {
        StringBuilder suffix = new StringBuilder();
        for (int i = 0; i < 6; i++) {
            suffix.append(ALPHABET.charAt(RANDOM.nextInt(ALPHABET.length())));
        }
        return new BackupId(STAMP.format(time.truncatedTo(ChronoUnit.SECONDS)) + "-" + suffix);
    }

    public Instant time() {
        return STAMP.parse(value.substring(0, 16), Instant::from);
    }

    @Override
    public int compareTo(BackupId o) {
        return value.compareTo(o.value);
    }

    @Override
    public String toString() {
        return value;
    }
}
