package dev.difydr;

import com.fasterxml.jackson.annotation.JsonProperty;

/** A failure as printed in JSON output: {@code {"class": "source", "exitCode": 4, "message": "..."}}. */
public record ErrorReport(@JsonProperty("class") String failureClass, int exitCode, String message) {

    public static ErrorReport of(Failure failure, Throwable error) {
        return new ErrorReport(failure.name().toLowerCase(java.util.Locale.ROOT), failure.exitCode(), DrException.describe(error));
    }
}
