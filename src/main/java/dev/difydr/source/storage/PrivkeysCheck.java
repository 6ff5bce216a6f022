package dev.difydr.source.storage;

import dev.difydr.DrException;
import dev.difydr.Failure;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Dify encrypts each workspace's model-provider credentials with the RSA key in {@code privkeys/<tenant id>/private.pem}
 * of its file storage. A restored database whose tenants lack their keys works until someone uses a model: then every
 * stored credential is unreadable and has to be entered again. This check names those tenants before that happens.
 */
public final class PrivkeysCheck {
    private static final Logger log = LoggerFactory.getLogger(PrivkeysCheck.class);
    private static final Pattern PRIVKEY = Pattern.compile("privkeys/[^/]+/private\\.pem");

    private PrivkeysCheck() {
    }

    /** {@code warning}: null when every tenant has its key, else one line naming each tenant without one. */
    public record Result(int tenants, List<String> missing, String warning) {
        public boolean complete() {
            return missing.isEmpty();
        }
    }

    public static String keyPath(String tenantId) {
        return "privkeys/" + tenantId + "/private.pem";
    }

    static boolean isPrivkeyPath(String relativePath) {
        return relativePath.startsWith("privkeys/") && PRIVKEY.matcher(relativePath).matches();
    }

    /** The workspace ids of a (restored) Dify database, in a stable order. */
    public static List<String> tenantIds(Connection dify) throws SQLException {
        List<String> ids = new ArrayList<>();
        try (Statement s = dify.createStatement(); ResultSet rs = s.executeQuery("select id from tenants order by id")) {
            while (rs.next()) {
                ids.add(rs.getString(1));
            }
        }
        return ids;
    }

    /**
     * Which tenants have no key file. {@code keyExists} is asked about {@link #keyPath} of each tenant, relative to the
     * storage's root ({@link StorageTarget#exists}). Missing keys are logged loudly; with {@code strict} they are a
     * VERIFY failure instead.
     */
    public static Result check(List<String> tenantIds, Predicate<String> keyExists, boolean strict) {
        List<String> missing = new ArrayList<>();
        for (String id : tenantIds) {
            if (!keyExists.test(keyPath(id))) {
                missing.add(id);
            }
        }
        if (missing.isEmpty()) {
            return new Result(tenantIds.size(), List.of(), null);
        }
        String warning = missing.size() + " of " + tenantIds.size() + " workspaces have no privkeys/<tenant>/private.pem in the "
                + "restored storage, so their stored model credentials cannot be decrypted: " + String.join(", ", missing)
                + ". Restore the storage from the same backup as the database, or re-enter those credentials in Dify.";
        if (strict) {
            throw new DrException(Failure.VERIFY, warning);
        }
        log.warn(warning);
        return new Result(tenantIds.size(), List.copyOf(missing), warning);
    }
}
