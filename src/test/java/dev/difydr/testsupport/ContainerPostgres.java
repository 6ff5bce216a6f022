package dev.difydr.testsupport;

import org.testcontainers.DockerClientFactory;
import org.testcontainers.postgresql.PostgreSQLContainer;

/** PostgreSQL in the image Dify ships ({@code postgres:15-alpine}), where a Docker engine answers. */
final class ContainerPostgres implements PostgresServer {
    private final PostgreSQLContainer container;

    private ContainerPostgres(PostgreSQLContainer container) {
        this.container = container;
    }

    private static Boolean dockerAvailable;

    /** Asked once per test JVM: the probe takes seconds when no engine answers. */
    static synchronized boolean dockerAvailable() {
        if (dockerAvailable == null) {
            dockerAvailable = !Boolean.getBoolean("difydr.test.localOnly") && probeDocker();
        }
        return dockerAvailable;
    }

    private static boolean probeDocker() {
        try {
            return DockerClientFactory.instance().isDockerAvailable();
        } catch (RuntimeException | LinkageError e) {
            return false;
        }
    }

    static ContainerPostgres start() {
        PostgreSQLContainer c = new PostgreSQLContainer("postgres:15-alpine")
                .withUsername("postgres").withPassword("pw-" + java.util.UUID.randomUUID()).withDatabaseName("postgres");
        c.start();
        return new ContainerPostgres(c);
    }

    @Override
    public String host() {
        return container.getHost();
    }

    @Override
    public int port() {
        return container.getMappedPort(5432);
    }

    @Override
    public String user() {
        return container.getUsername();
    }

    @Override
    public String password() {
        return container.getPassword();
    }

    @Override
    public void close() {
        container.stop();
    }
}
