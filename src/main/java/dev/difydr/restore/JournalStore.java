package dev.difydr.restore;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.difydr.DrException;
import dev.difydr.Failure;
import dev.difydr.repository.Json;
import dev.difydr.repository.Repository;
import dev.difydr.store.NoSuchObjectException;
import dev.difydr.store.file.PrivateFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps a restore's journal in two places: a local file (written first, atomically, so that a restore whose
 * repository has become unreachable can still be resumed or undone) and the repository (so that another machine can).
 * Losing one of them is a warning; losing both stops the restore.
 */
public final class JournalStore {
    private static final Logger log = LoggerFactory.getLogger(JournalStore.class);

    private final Repository repository;
    private final Path localRoot;

    public JournalStore(Repository repository, Path localRoot) {
        this.repository = repository;
        this.localRoot = localRoot;
    }

    public Path localPath(String restoreId) {
        return localRoot.resolve(repository.layout().deployment()).resolve("restores").resolve(restoreId).resolve("journal.json");
    }

    public String repositoryKey(String restoreId) {
        return repository.layout().restoreJournal(restoreId);
    }

    public void save(Journal journal) {
        byte[] bytes;
        try {
            ObjectNode tree = Json.MAPPER.valueToTree(journal);
            bytes = Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsBytes(repository.sealed(tree, repository.journalContext(journal.id)));
        } catch (IOException e) {
            throw new DrException(Failure.INTERNAL, "cannot serialise the journal of restore " + journal.id, e);
        }
        String localProblem = null;
        Path path = localPath(journal.id);
        try {
            PrivateFiles.createDirectories(path.getParent());
            PrivateFiles.replace(path, bytes);
        } catch (IOException e) {
            localProblem = e.toString();
        }
        String repositoryProblem = null;
        try {
            repository.store().put(repositoryKey(journal.id), bytes);
        } catch (RuntimeException e) {
            repositoryProblem = e.getMessage();
        }
        if (localProblem != null && repositoryProblem != null) {
            throw new DrException(Failure.STORE, "cannot write the journal of restore " + journal.id + " anywhere: local " + path
                    + ": " + localProblem + "; repository: " + repositoryProblem);
        }
        if (localProblem != null) {
            log.warn("cannot write the local journal {} ({}); the repository copy is current", path, localProblem);
        }
        if (repositoryProblem != null) {
            log.warn("cannot write the journal to the repository ({}); the local copy {} is current", repositoryProblem, path);
        }
    }

    /** The journal of a restore: the local copy when there is one (it is never older), else the repository's. */
    public Journal load(String restoreId) {
        Path path = localPath(restoreId);
        try {
            boolean local = Files.exists(path);
            String where = local ? path.toString() : repositoryKey(restoreId) + " in " + repository.store().describe();
            JsonNode tree = Json.MAPPER.readTree(local ? Files.readAllBytes(path) : repository.store().read(repositoryKey(restoreId)));
            if (tree == null || !tree.isObject()) {
                throw new DrException(Failure.VERIFY, "the journal of restore " + restoreId + " (" + where + ") is not a JSON object");
            }
            String forged = repository.sealProblem(tree, repository.journalContext(restoreId), "the journal of restore " + restoreId + " (" + where + ")");
            if (forged != null) {
                throw new DrException(Failure.VERIFY, forged + "; nothing was changed: it cannot be resumed or rolled back from, see"
                        + " runbooks/incident-restore.md to finish by hand");
            }
            return Json.MAPPER.treeToValue(tree, Journal.class);
        } catch (NoSuchObjectException e) {
            throw new DrException(Failure.USAGE, "no journal of restore '" + restoreId + "' in " + path + " or in "
                    + repository.store().describe() + " (restore ids are printed by 'restore' and look like 20261122T060000Z-k3m9qa)");
        } catch (IOException e) {
            throw new DrException(Failure.INTERNAL, "the journal of restore " + restoreId + " is unreadable: " + e.getMessage(), e);
        }
    }
}
