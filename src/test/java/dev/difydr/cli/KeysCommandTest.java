package dev.difydr.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.difydr.DrException;
import dev.difydr.Failure;
import dev.difydr.config.Secret;
import dev.difydr.crypto.Keyring;
import dev.difydr.crypto.KeysetFile;
import dev.difydr.testsupport.CliRun;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code keys generate}, {@code keys rotate}, {@code keys list} and the encryption line of {@code config check}, on files only. */
class KeysCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String PASSPHRASE = "correct horse battery staple 7f3a";
    private static final Function<String, String> NO_ENV = name -> null;
    private static final Function<String, String> WITH_PASSPHRASE = env(PASSPHRASE);
    private static final byte[] CONTEXT = "test".getBytes(StandardCharsets.UTF_8);

    @TempDir
    Path dir;

    @Test
    void generateWritesAPrivateKeysetOfOneKeyAndNeverOverwrites() throws IOException {
        Path keyset = dir.resolve("keyset.json");
        Instant before = Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS);

        CliRun run = CliRun.of(NO_ENV, "--json", "keys", "generate", "--out", keyset.toString());

        assertThat(run.code()).as(run.everything()).isZero();
        JsonNode result = JSON.readTree(run.out());
        long id = result.get("keyId").asLong();
        assertThat(result.get("wrapped").asBoolean()).isFalse();
        assertThat(Files.getPosixFilePermissions(keyset)).isEqualTo(PosixFilePermissions.fromString("rw-------"));
        String text = Files.readString(keyset);
        KeysetFile file = KeysetFile.parse(text, null, "test");
        assertThat(file.keyring().ids()).containsExactly(id);
        assertThat(file.created().get(id)).isBetween(before, Instant.now());
        JsonNode tree = JSON.readTree(text);
        assertThat(tree.get("format").asText()).isEqualTo(KeysetFile.FORMAT);
        assertThat(tree.has("keyset")).isTrue();
        assertThat(tree.has("encryptedKeyset")).isFalse();

        CliRun again = CliRun.of(NO_ENV, "keys", "generate", "--out", keyset.toString());

        assertThat(again.code()).isEqualTo(Failure.USAGE.exitCode());
        assertThat(again.err()).contains(keyset + " exists", "never overwrites");
        assertThat(Files.readString(keyset)).isEqualTo(text);
    }

    @Test
    void rotateAddsANewPrimaryAndKeepsTheOldKeysReadable() throws IOException {
        Path keyset = dir.resolve("keyset.json");
        assertThat(CliRun.of(NO_ENV, "keys", "generate", "--out", keyset.toString()).code()).isZero();
        Keyring original = KeysetFile.parse(Files.readString(keyset), null, "test").keyring();
        byte[] sealedBefore = encrypt(original, "written under the first key");

        CliRun run = CliRun.of(NO_ENV, "--json", "keys", "rotate", "--keyset", keyset.toString());

        assertThat(run.code()).as(run.everything()).isZero();
        JsonNode result = JSON.readTree(run.out());
        long oldId = original.primaryId();
        long newId = result.get("primary").asLong();
        assertThat(result.get("previousPrimary").asLong()).isEqualTo(oldId);
        assertThat(newId).isNotEqualTo(oldId);
        KeysetFile rotated = KeysetFile.parse(Files.readString(keyset), null, "test");
        assertThat(rotated.keyring().primaryId()).isEqualTo(newId);
        assertThat(rotated.keyring().ids()).containsExactly(newId, oldId);
        assertThat(rotated.created()).containsOnlyKeys(newId, oldId);
        assertThat(decrypt(rotated.keyring(), sealedBefore, oldId)).isEqualTo("written under the first key");
        assertThat(Files.getPosixFilePermissions(keyset)).isEqualTo(PosixFilePermissions.fromString("rw-------"));
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files.toList()).as("no temporary file left").containsExactly(keyset);
        }

        CliRun text = CliRun.of(NO_ENV, "keys", "rotate", "--keyset", keyset.toString());
        assertThat(text.code()).isZero();
        long third = KeysetFile.parse(Files.readString(keyset), null, "test").keyring().primaryId();
        assertThat(text.out()).contains("previous primary key " + newId, "new primary key      " + third);

        CliRun list = CliRun.of(NO_ENV, "--config", dir.resolve("absent.yaml").toString(), "--json", "keys", "list", "--keyset", keyset.toString());

        assertThat(list.code()).as(list.everything()).isZero();
        JsonNode listing = JSON.readTree(list.out());
        assertThat(listing.get("primary").asLong()).isEqualTo(third);
        assertThat(listing.get("keys")).extracting(k -> k.get("id").asLong()).containsExactly(third, newId, oldId);
        assertThat(listing.get("keys")).extracting(k -> k.get("primary").asBoolean()).containsExactly(true, false, false);
        assertThat(listing.get("keys")).allSatisfy(k -> {
            assertThat(Instant.parse(k.get("created").asText())).isBefore(Instant.now());
            assertThat(k.has("backups")).as("no repository, no counts").isFalse();
        });
        assertThat(listing.get("note").asText()).contains("absent.yaml");
    }

    @Test
    void aWrappedKeysetOpensOnlyWithItsPassphraseAndStaysWrappedWhenRotated() throws IOException {
        Path keyset = dir.resolve("wrapped.json");
        CliRun generate = CliRun.of(WITH_PASSPHRASE, "--json", "keys", "generate", "--out", keyset.toString(), "--wrap", "passphrase");

        assertThat(generate.code()).as(generate.everything()).isZero();
        assertThat(JSON.readTree(generate.out()).get("wrapped").asBoolean()).isTrue();
        String text = Files.readString(keyset);
        JsonNode tree = JSON.readTree(text);
        assertThat(tree.has("keyset")).isFalse();
        assertThat(tree.get("wrapping").get("type").asText()).isEqualTo("passphrase");
        assertThat(tree.has("encryptedKeyset")).isTrue();
        assertThat(text).doesNotContain(PASSPHRASE);
        long id = KeysetFile.parse(text, Secret.of(PASSPHRASE), "test").keyring().primaryId();
        assertThatThrownBy(() -> KeysetFile.parse(text, null, "test")).isInstanceOf(DrException.class).hasMessageContaining("wrapped with a passphrase");

        CliRun without = CliRun.of(NO_ENV, "keys", "rotate", "--keyset", keyset.toString());
        assertThat(without.code()).isEqualTo(Failure.CONFIG.exitCode());
        assertThat(without.err()).contains("wrapped with a passphrase", "--passphrase-file", "DIFY_DR_KEYSET_PASSPHRASE");

        Path wrong = dir.resolve("wrong-passphrase");
        Files.writeString(wrong, "not the passphrase at all\n");
        CliRun wrongRun = CliRun.of(NO_ENV, "keys", "rotate", "--keyset", keyset.toString(), "--passphrase-file", wrong.toString());
        assertThat(wrongRun.code()).isEqualTo(Failure.CONFIG.exitCode());
        assertThat(wrongRun.err()).contains(keyset + ": the passphrase does not open the keyset");
        assertThat(Files.readString(keyset)).isEqualTo(text);

        Path right = dir.resolve("passphrase");
        Files.writeString(right, PASSPHRASE + "\n");
        CliRun rotate = CliRun.of(NO_ENV, "--json", "keys", "rotate", "--keyset", keyset.toString(), "--passphrase-file", right.toString());

        assertThat(rotate.code()).as(rotate.everything()).isZero();
        assertThat(JSON.readTree(rotate.out()).get("wrapped").asBoolean()).isTrue();
        String rotatedText = Files.readString(keyset);
        assertThat(JSON.readTree(rotatedText).has("keyset")).isFalse();
        assertThat(JSON.readTree(rotatedText).has("encryptedKeyset")).isTrue();
        KeysetFile rotated = KeysetFile.parse(rotatedText, Secret.of(PASSPHRASE), "test");
        assertThat(rotated.keyring().ids()).hasSize(2).contains(id).first().isNotEqualTo(id);
        assertThatThrownBy(() -> KeysetFile.parse(rotatedText, Secret.of("not the passphrase at all"), "test"))
                .hasMessageContaining("the passphrase does not open the keyset");

        CliRun list = CliRun.of(WITH_PASSPHRASE, "--config", dir.resolve("absent.yaml").toString(), "keys", "list", "--keyset", keyset.toString());
        assertThat(list.code()).as(list.everything()).isZero();
        assertThat(list.out()).contains("(wrapped with a passphrase)").containsPattern("(?m)^" + rotated.keyring().primaryId() + " .* primary$");
        for (CliRun r : List.of(generate, without, wrongRun, rotate, list)) {
            assertThat(r.everything()).doesNotContain(PASSPHRASE).doesNotContain("not the passphrase at all");
        }
    }

    @Test
    void wrappingIsAskedForExplicitlyAndNeedsAPassphrase() throws IOException {
        Path keyset = dir.resolve("keyset.json");

        CliRun noPassphrase = CliRun.of(NO_ENV, "keys", "generate", "--out", keyset.toString(), "--wrap", "passphrase");
        assertThat(noPassphrase.code()).isEqualTo(Failure.CONFIG.exitCode());
        assertThat(noPassphrase.err()).contains("--wrap passphrase needs a passphrase", "DIFY_DR_KEYSET_PASSPHRASE");

        CliRun tooShort = CliRun.of(env("short"), "keys", "generate", "--out", keyset.toString(), "--wrap", "passphrase");
        assertThat(tooShort.code()).isEqualTo(Failure.CONFIG.exitCode());
        assertThat(tooShort.err()).contains("at least 12 characters");

        Path passphraseFile = dir.resolve("passphrase");
        Files.writeString(passphraseFile, PASSPHRASE);
        CliRun fileWithoutWrap = CliRun.of(NO_ENV, "keys", "generate", "--out", keyset.toString(), "--passphrase-file", passphraseFile.toString());
        assertThat(fileWithoutWrap.code()).isEqualTo(Failure.USAGE.exitCode());
        assertThat(fileWithoutWrap.err()).contains("add --wrap passphrase");

        CliRun onTheCommandLine = CliRun.of(NO_ENV, "keys", "generate", "--out", keyset.toString(), "--passphrase", PASSPHRASE);
        assertThat(onTheCommandLine.code()).isEqualTo(Failure.USAGE.exitCode());
        assertThat(Files.exists(keyset)).as("nothing written by a refused command").isFalse();

        CliRun clear = CliRun.of(WITH_PASSPHRASE, "keys", "generate", "--out", keyset.toString());
        assertThat(clear.code()).isZero();
        assertThat(clear.logs()).contains("DIFY_DR_KEYSET_PASSPHRASE is set, but without --wrap passphrase the keyset is written in the clear");
        assertThat(JSON.readTree(Files.readString(keyset)).has("keyset")).isTrue();
    }

    @Test
    void configCheckReportsTheKeysetWithoutItsKeyMaterial() throws IOException {
        Path keyset = dir.resolve("keyset.json");
        Path passphrase = dir.resolve("passphrase");
        Files.writeString(passphrase, PASSPHRASE + "\n");
        assertThat(CliRun.of(WITH_PASSPHRASE, "keys", "generate", "--out", keyset.toString(), "--wrap", "passphrase").code()).isZero();
        assertThat(CliRun.of(WITH_PASSPHRASE, "keys", "rotate", "--keyset", keyset.toString()).code()).isZero();
        KeysetFile file = KeysetFile.parse(Files.readString(keyset), Secret.of(PASSPHRASE), "test");
        String material = JSON.readTree(Files.readString(keyset)).get("encryptedKeyset").get("encryptedKeyset").asText();

        CliRun run = CliRun.of(NO_ENV, "--config", config(keyset, passphrase).toString(), "--json", "config", "check");

        assertThat(run.code()).as(run.everything()).isZero();
        JsonNode encryption = check(run, "encryption");
        assertThat(encryption.get("ok").asBoolean()).isTrue();
        assertThat(encryption.get("detail").asText()).isEqualTo("keyset readable, wrapped with a passphrase: 2 keys, primary "
                + file.keyring().primaryId() + " (AES256_GCM_HKDF_1MB)");
        assertThat(run.everything()).doesNotContain(material.substring(0, 24)).doesNotContain(PASSPHRASE);

        Files.writeString(passphrase, "not the passphrase at all\n");
        CliRun wrong = CliRun.of(NO_ENV, "--config", config(keyset, passphrase).toString(), "--json", "config", "check");

        assertThat(wrong.code()).isEqualTo(Failure.CONFIG.exitCode());
        assertThat(check(wrong, "encryption").get("ok").asBoolean()).isFalse();
        assertThat(check(wrong, "encryption").get("detail").asText()).contains("the passphrase does not open the keyset");
    }

    private Path config(Path keyset, Path passphrase) throws IOException {
        Path file = dir.resolve("dify-dr.yaml");
        Files.writeString(file, """
                repository:
                  url: %s
                encryption:
                  keyset: "${file:%s}"
                  passphrase: "${file:%s}"
                """.formatted(dir.resolve("repo").toUri(), keyset, passphrase));
        return file;
    }

    private static JsonNode check(CliRun run, String name) throws IOException {
        for (JsonNode c : JSON.readTree(run.out()).get("checks")) {
            if (c.get("name").asText().equals(name)) {
                return c;
            }
        }
        throw new AssertionError("no check " + name + " in " + run.out());
    }

    private static Function<String, String> env(String passphrase) {
        return Map.of("DIFY_DR_KEYSET_PASSPHRASE", passphrase)::get;
    }

    private static byte[] encrypt(Keyring keyring, String text) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (OutputStream plain = keyring.encrypt(out, CONTEXT)) {
            plain.write(text.getBytes(StandardCharsets.UTF_8));
        }
        return out.toByteArray();
    }

    private static String decrypt(Keyring keyring, byte[] ciphertext, long keyId) throws IOException {
        try (InputStream in = keyring.decrypt(new ByteArrayInputStream(ciphertext), keyId, CONTEXT)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
