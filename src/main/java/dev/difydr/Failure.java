package dev.difydr;

/**
 * The classes of failure an operator or a scheduler can act on. Each has one documented exit code;
 * {@link Main} is the only place that turns a failure into a process exit.
 */
public enum Failure {
    INTERNAL(1, "unexpected internal error"),
    USAGE(2, "bad command line"),
    CONFIG(3, "configuration error"),
    SOURCE(4, "source failure (PostgreSQL, Redis, storage)"),
    STORE(5, "store failure (file, S3, OSS)"),
    VERIFY(6, "verification failed or backup not found"),
    LOCK(7, "lock held by another run"),
    SMOKE(8, "smoke check failed"),
    ROLLED_BACK(9, "restore failed and was rolled back: Dify runs on its old databases again"),
    KUBERNETES(10, "Kubernetes failure (API access, workload discovery, rollout)"),
    ROLLBACK_FAILED(11, "restore failed and so did its rollback: Dify needs an operator"),
    DRILL_THRESHOLD(12, "drill completed but missed its RTO or RPO threshold");

    private final int exitCode;
    private final String meaning;

    Failure(int exitCode, String meaning) {
        this.exitCode = exitCode;
        this.meaning = meaning;
    }

    public int exitCode() {
        return exitCode;
    }

    public String meaning() {
        return meaning;
    }

    /** The exit-code table as shown by {@code --help} and the README. */
    public static String table() {
        StringBuilder sb = new StringBuilder("  0  success\n");
        for (Failure f : values()) {
            sb.append(String.format("%3d  %s%n", f.exitCode, f.meaning));
        }
        return sb.toString();
    }
}
