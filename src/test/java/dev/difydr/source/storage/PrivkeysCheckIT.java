package dev.difydr.source.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.difydr.DrException;
import dev.difydr.Failure;
import dev.difydr.testsupport.PostgresServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The tenants of a real Dify database (the 0.6.15 fixture) against a storage directory that lacks one tenant's key. */
class PrivkeysCheckIT {
    private static PostgresServer pg;
    private static List<String> tenants;

    @TempDir
    static Path storage;

    @BeforeAll
    static void start() throws Exception {
        pg = PostgresServer.start();
        pg.loadDifyFixtures();
        try (Connection c = DriverManager.getConnection("jdbc:postgresql://" + pg.host() + ":" + pg.port() + "/dify", pg.user(), pg.password())) {
            tenants = PrivkeysCheck.tenantIds(c);
        }
    }

    @AfterAll
    static void stop() {
        if (pg != null) {
            pg.close();
        }
    }

    @Test
    void theFixturesTenantsAreRead() {
        // three workspaces in the fixture, ids as Dify writes them
        assertThat(tenants).hasSize(3).allMatch(id -> id.matches("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"));
        assertThat(pg.psql("dify", "-tAc", "select count(*) from tenants").strip()).isEqualTo("3");
    }

    @Test
    void missingKeysAreNamedAndStrictModeFails() throws Exception {
        for (String id : tenants.subList(0, 2)) {
            Path key = storage.resolve(PrivkeysCheck.keyPath(id));
            Files.createDirectories(key.getParent());
            Files.writeString(key, "-----BEGIN RSA PRIVATE KEY-----\n");
        }
        Files.createDirectories(storage.resolve(PrivkeysCheck.keyPath(tenants.get(2)))); // a directory is no key
        StorageTarget target = StorageTarget.directory(storage);

        PrivkeysCheck.Result lenient = PrivkeysCheck.check(tenants, target::exists, false);
        assertThat(lenient.complete()).isFalse();
        assertThat(lenient.tenants()).isEqualTo(3);
        assertThat(lenient.missing()).containsExactly(tenants.get(2));
        assertThat(lenient.warning()).contains(tenants.get(2)).contains("1 of 3 workspaces").doesNotContain(tenants.get(0));

        DrException e = catchThrowableOfType(DrException.class, () -> PrivkeysCheck.check(tenants, target::exists, true));
        assertThat(e.failure()).isEqualTo(Failure.VERIFY);
        assertThat(e.getMessage()).contains(tenants.get(2));

        Files.delete(storage.resolve(PrivkeysCheck.keyPath(tenants.get(2))));
        Files.writeString(storage.resolve(PrivkeysCheck.keyPath(tenants.get(2))), "key");
        assertThat(PrivkeysCheck.check(tenants, target::exists, true).complete()).isTrue();
    }
}
