package dev.difydr.store.file;

import dev.difydr.DrException;
import dev.difydr.Failure;
import dev.difydr.store.NoSuchObjectException;
import dev.difydr.store.ObjectStore;
import dev.difydr.store.Upload;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.Stream;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;

/**
 * Objects as files under a root directory. A write goes to a hidden temp file beside its target
 * ({@code .<name>.partial-<uuid>}), is forced to disk and renamed into place on commit; temp files are never listed as
 * objects. A temp file left by a crashed writer is a pending upload, dated by its last modification (a writer that is
 * still going keeps it fresh).
 */
public final class FileObjectStore implements ObjectStore {
    private static final String TEMP_MARK = ".partial-";
    private static final long FLUSH_EVERY = 32L << 20;
    private static final Executor FLUSHER = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "file-store-flush");
        t.setDaemon(true);
        return t;
    });
    private final Path root;

    public FileObjectStore(Path root) {
        this.root = root.toAbsolutePath().normalize();
    }

    @Override
    public String describe() {
        return "file://" + root;
    }

    private Path resolve(String key) {
        Path p = root.resolve(key).normalize();
        if (!p.startsWith(root) || key.startsWith("/")) {
            throw new IllegalArgumentException("key escapes the repository root: " + key);
        }
        return p;
    }

    @Override
    public Upload create(String key) {
        Path target = resolve(key);
        Path temp = target.resolveSibling("." + target.getFileName() + TEMP_MARK + UUID.randomUUID());
        FileChannel channel;
        try {
            channel = openNew(temp);
        } catch (IOException e) {
            throw failure("create", key, e);
        }
        OutputStream out = new BufferedOutputStream(java.nio.channels.Channels.newOutputStream(channel), 1 << 20);
        return new Upload() {
            private long unflushed;
            private CompletableFuture<Void> flushing = CompletableFuture.completedFuture(null);

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                try {
                    out.write(b, off, len);
                } catch (IOException e) {
                    throw new IOException("write of " + key + " in " + describe() + " failed: " + e, e);
                }
                unflushed += len;
                // Write back to disk while the stream goes on, so that the force at commit has only the tail left.
                if (unflushed >= FLUSH_EVERY && flushing.isDone()) {
                    unflushed = 0;
                    flushing = CompletableFuture.runAsync(() -> {
                        try {
                            channel.force(false);
                        } catch (IOException ignored) {
                            // the force at commit reports what is wrong
                        }
                    }, FLUSHER);
                }
            }

            @Override
            protected void doCommit() throws IOException {
                try {
                    out.flush();
                    flushing.join();
                    channel.force(true);
                    out.close();
                    try {
                        Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                    } catch (AtomicMoveNotSupportedException e) {
                        Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
                    }
                    // The rename itself must survive a crash: flush the directory entry too.
                    try (FileChannel dir = FileChannel.open(target.getParent(), StandardOpenOption.READ)) {
                        dir.force(true);
                    }
                } catch (IOException e) {
                    doAbort();
                    throw new IOException("commit of " + key + " in " + describe() + " failed: " + e, e);
                }
            }

            @Override
            protected void doAbort() {
                try {
                    flushing.join();
                    channel.close();
                } catch (IOException ignored) {
                    // the temp file is removed below either way
                }
                try {
                    Files.deleteIfExists(temp);
                } catch (IOException ignored) {
                    // a leftover temp file is hidden from list() and never becomes an object
                }
            }
        };
    }

    @Override
    public InputStream open(String key) {
        Path p = resolve(key);
        if (Files.isDirectory(p)) {
            // a key that only prefixes others: Linux opens a directory and fails on the first read instead
            throw new NoSuchObjectException(describe(), key);
        }
        try {
            return Files.newInputStream(p);
        } catch (NoSuchFileException e) {
            throw new NoSuchObjectException(describe(), key);
        } catch (IOException e) {
            throw failure("read", key, e);
        }
    }

    @Override
    public Optional<Long> size(String key) {
        Path p = resolve(key);
        try {
            return Files.isRegularFile(p) ? Optional.of(Files.size(p)) : Optional.empty();
        } catch (IOException e) {
            throw failure("stat", key, e);
        }
    }

    @Override
    public List<ObjectInfo> list(String prefix) {
        Path start = resolve(prefix.isEmpty() ? "." : prefix);
        Path dir = prefix.isEmpty() || prefix.endsWith("/") ? start : start.getParent();
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        List<ObjectInfo> out = new ArrayList<>();
        try {
            // Objects written or deleted while the walk runs (another run's lock, an upload committing) are no error.
            Files.walkFileTree(dir, new java.nio.file.SimpleFileVisitor<>() {
                @Override
                public java.nio.file.FileVisitResult visitFile(Path p, java.nio.file.attribute.BasicFileAttributes attrs) {
                    String key = keyOf(p);
                    if (attrs.isRegularFile() && !p.getFileName().toString().contains(TEMP_MARK) && key.startsWith(prefix)) {
                        out.add(new ObjectInfo(key, attrs.size()));
                    }
                    return java.nio.file.FileVisitResult.CONTINUE;
                }

                @Override
                public java.nio.file.FileVisitResult visitFileFailed(Path p, IOException e) throws IOException {
                    if (e instanceof java.nio.file.NoSuchFileException) {
                        return java.nio.file.FileVisitResult.CONTINUE;
                    }
                    throw e;
                }
            });
        } catch (IOException e) {
            throw failure("list", prefix, e);
        }
        out.sort(java.util.Comparator.comparing(ObjectInfo::key));
        return out;
    }

    /** Creates the file and its directories; a directory that a concurrent delete removed as empty is made again. */
    private static FileChannel openNew(Path file) throws IOException {
        for (int attempt = 1; ; attempt++) {
            PrivateFiles.createDirectories(file.getParent());
            try {
                return PrivateFiles.createNew(file);
            } catch (NoSuchFileException e) {
                if (attempt == 3) {
                    throw e;
                }
            }
        }
    }

    /** Deletes the object, and the directories it leaves empty (a bucket has no empty folders either). */
    @Override
    public void delete(String key) {
        Path p = resolve(key);
        try {
            Files.deleteIfExists(p);
        } catch (IOException e) {
            throw failure("delete", key, e);
        }
        removeEmptyDirectories(p.getParent());
    }

    private void removeEmptyDirectories(Path from) {
        for (Path dir = from; dir != null && dir.startsWith(root) && !dir.equals(root); dir = dir.getParent()) {
            try {
                Files.delete(dir);
            } catch (IOException e) {
                // not empty (or gone already): the directories above are not empty either
                break;
            }
        }
    }

    @Override
    public List<PendingUpload> pendingUploads(String prefix) {
        Path start = resolve(prefix.isEmpty() ? "." : prefix);
        Path dir = prefix.isEmpty() || prefix.endsWith("/") ? start : start.getParent();
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        List<PendingUpload> out = new ArrayList<>();
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) walk::iterator) {
                String name = p.getFileName().toString();
                int mark = name.indexOf(TEMP_MARK);
                if (mark < 1 || !name.startsWith(".") || !Files.isRegularFile(p)) {
                    continue;
                }
                Path target = p.resolveSibling(name.substring(1, mark));
                String key = keyOf(target);
                if (!key.startsWith(prefix)) {
                    continue;
                }
                try {
                    out.add(new PendingUpload(key, keyOf(p), Files.getLastModifiedTime(p).toInstant()));
                } catch (NoSuchFileException e) {
                    // committed or aborted while the tree was walked: no longer pending
                }
            }
        } catch (IOException e) {
            throw failure("list pending uploads under", prefix, e);
        }
        out.sort(java.util.Comparator.comparing(PendingUpload::started));
        return out;
    }

    @Override
    public void abort(PendingUpload upload) {
        Path temp = resolve(upload.uploadId());
        if (!temp.getFileName().toString().contains(TEMP_MARK)) {
            throw new IllegalArgumentException("not an upload's temp file: " + upload.uploadId());
        }
        try {
            Files.deleteIfExists(temp);
        } catch (IOException e) {
            throw failure("abort of the upload", upload.key(), e);
        }
        removeEmptyDirectories(temp.getParent());
    }

    private String keyOf(Path p) {
        return root.relativize(p).toString().replace(java.io.File.separatorChar, '/');
    }

    @Override
    public void check() {
        try {
            PrivateFiles.createDirectories(root);
            if (!Files.isWritable(root)) {
                throw new DrException(Failure.STORE, describe() + " is not writable by this user");
            }
        } catch (IOException e) {
            throw new DrException(Failure.STORE, "cannot create repository directory " + root + ": " + e, e);
        }
    }

    private DrException failure(String op, String key, IOException e) {
        return new DrException(Failure.STORE, op + " of " + key + " in " + describe() + " failed: " + e, e);
    }
}
