package dev.difydr;

/**
 * The one exception type the program raises on purpose. Its message is meant for the operator: it says what failed,
 * where, and, when known, what to do. It never carries a secret.
 */
public class DrException extends RuntimeException {
    private final Failure failure;

    public DrException(Failure failure, String message) {
        super(message);
        this.failure = failure;
    }

    public DrException(Failure failure, String message, Throwable cause) {
        super(message, cause);
        this.failure = failure;
    }

    public Failure failure() {
        return failure;
    }

    /** The message followed by the distinct messages of the cause chain, each on its own line. */
    public static String describe(Throwable t) {
        StringBuilder sb = new StringBuilder(String.valueOf(t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage()));
        String last = sb.toString();
        for (Throwable c = t.getCause(); c != null && c != c.getCause(); c = c.getCause()) {
            String m = c.getMessage() == null ? c.getClass().getSimpleName() : c.getMessage();
            if (!last.contains(m)) {
                sb.append("\n  caused by: ").append(m);
            }
            last = m;
        }
        return sb.toString();
    }
}
