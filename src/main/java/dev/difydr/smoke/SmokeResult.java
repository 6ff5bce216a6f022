package dev.difydr.smoke;

/** One smoke check's outcome: what was asked, whether it passed, after how many attempts, and the last answer. */
public record SmokeResult(String name, String url, boolean ok, int attempts, double seconds, String detail) {
}
