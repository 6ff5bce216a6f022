package dev.difydr.source.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.difydr.DrException;
import dev.difydr.config.PostgresConfig;
import dev.difydr.config.Secret;
import dev.difydr.testsupport.LocalPostgres;
import dev.difydr.testsupport.PostgresServer;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** A restore or drill drops only databases it can prove it made: what a journal says is no proof. */
class DropOwnIT {
    private static final String MARKER = "created by dify-dr restore 20261122T060000Z-k3m9qa";
    static PostgresServer pg;
    static PostgresLogicalRestore target;

    @BeforeAll
    static void start() {
        pg = PostgresServer.start();
        target = new PostgresLogicalRestore(new PostgresConnector(new PostgresConfig(pg.host(), pg.port(), pg.user(), Secret.of(pg.password()),
                null, null, "disable", Path.of(LocalPostgres.tool("pg_dump")).getParent().toString())));
    }

    @AfterAll
    static void stop() {
        pg.close();
    }

    private static boolean exists(String db) {
        return target.exists(db);
    }

    @Test
    void itsOwnDatabaseGoesWhenMarkerAndOidMatch() {
        long oid = target.create("own_copy", pg.user(), MARKER);
        pg.psql("own_copy", "-c", "CREATE TABLE t (v int)");

        assertThatThrownBy(() -> target.dropOwn("own_copy", MARKER, oid + 1)).isInstanceOf(DrException.class)
                .hasMessageContaining("its OID is " + oid);
        assertThatThrownBy(() -> target.dropOwn("own_copy", "created by dify-dr restore another", null))
                .hasMessageContaining("was not created by this run");
        assertThat(exists("own_copy")).isTrue();

        target.dropOwn("own_copy", MARKER, oid);

        assertThat(exists("own_copy")).isFalse();
    }

    @Test
    void anUncommentedDatabaseGoesOnlyWhenItHoldsNothing() {
        pg.createDatabase("bare_copy");
        pg.createDatabase("someones_data");
        pg.psql("someones_data", "-c", "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1'");

        assertThatThrownBy(() -> target.dropOwn("someones_data", MARKER, null)).hasMessageContaining("drop it yourself");
        target.dropOwn("bare_copy", MARKER, null);
        target.dropOwn("never_made", MARKER, null);

        assertThat(exists("someones_data")).isTrue();
        assertThat(exists("bare_copy")).isFalse();
    }
}
