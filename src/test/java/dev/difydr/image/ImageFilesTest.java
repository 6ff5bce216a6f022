package dev.difydr.image;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;

/**
 * The container image's files, read as text, with no container engine: {@code src/main/docker/Dockerfile} (the final
 * stage together with the stages it is built on) and the Jib configuration in {@code pom.xml}, against what the code
 * needs at run time and what the launcher does.
 */
class ImageFilesTest {
    private static final Path DOCKERFILE = Path.of("src/main/docker/Dockerfile");
    private static final Path POM = Path.of("pom.xml");
    private static final Path LAUNCHER = Path.of("dify-dr");
    private static final Path MAIN_SOURCES = Path.of("src/main/java");

    /** The executables of Debian's and PGDG's {@code postgresql-client-NN} package (as of 15; later majors keep them). */
    private static final Set<String> CLIENT_PACKAGE_TOOLS = Set.of("clusterdb", "createdb", "createuser", "dropdb",
            "dropuser", "pg_amcheck", "pg_basebackup", "pg_config", "pg_dump", "pg_dumpall", "pg_isready",
            "pg_receivewal", "pg_recvlogical", "pg_restore", "pg_verifybackup", "psql", "reindexdb", "vacuumdb");

    /** Download and key tools that must not be left in the image. */
    private static final Set<String> FETCH_TOOLS = Set.of("curl", "wget", "gnupg", "gpg", "dirmngr", "ca-certificates");

    private static List<Instruction> finalImage;
    private static Map<String, String> args;

    record Instruction(String keyword, String value) {
    }

    @BeforeAll
    static void readDockerfile() throws IOException {
        List<Instruction> all = parse(Files.readString(DOCKERFILE, StandardCharsets.UTF_8));
        args = new HashMap<>();
        Map<String, List<Instruction>> stages = new LinkedHashMap<>();
        List<Instruction> current = null;
        for (Instruction i : all) {
            if (i.keyword().equals("FROM")) {
                Matcher from = Pattern.compile("(?i)(?:--\\S+\\s+)*(\\S+)(?:\\s+AS\\s+(\\S+))?").matcher(i.value());
                assertThat(from.matches()).as("FROM %s", i.value()).isTrue();
                current = new ArrayList<>();
                // A stage built on an earlier stage starts with that stage's instructions: USER, ENV and RUN carry over.
                List<Instruction> parent = stages.get(from.group(1));
                if (parent != null) {
                    current.addAll(parent);
                }
                current.add(i);
                stages.put(from.group(2) != null ? from.group(2) : "#" + stages.size(), current);
            } else if (current == null) {
                if (i.keyword().equals("ARG")) {
                    String[] kv = i.value().split("=", 2);
                    args.put(kv[0].trim(), kv.length == 2 ? kv[1].trim() : "");
                }
            } else {
                current.add(i);
            }
        }
        assertThat(current).as("a FROM in %s", DOCKERFILE).isNotNull();
        finalImage = current;
    }

    /** Instructions with comments dropped and continuation lines joined. */
    static List<Instruction> parse(String dockerfile) {
        List<Instruction> out = new ArrayList<>();
        StringBuilder pending = new StringBuilder();
        for (String line : dockerfile.split("\n", -1)) {
            String trimmed = line.strip();
            if (trimmed.startsWith("#") || (trimmed.isEmpty() && pending.isEmpty())) {
                continue;
            }
            if (trimmed.endsWith("\\")) {
                pending.append(trimmed, 0, trimmed.length() - 1).append(' ');
                continue;
            }
            pending.append(trimmed);
            String text = pending.toString().strip();
            pending.setLength(0);
            if (text.isEmpty()) {
                continue;
            }
            int space = text.indexOf(' ');
            out.add(new Instruction(text.substring(0, space).toUpperCase(), text.substring(space + 1).strip()));
        }
        return out;
    }

    private static List<String> values(String keyword) {
        return finalImage.stream().filter(i -> i.keyword().equals(keyword)).map(Instruction::value).toList();
    }

    private static String last(String keyword) {
        List<String> v = values(keyword);
        assertThat(v).as("%s in the final image of %s", keyword, DOCKERFILE).isNotEmpty();
        return v.get(v.size() - 1);
    }

    /** The value of an ENV key in the final image (the last one set), with the Dockerfile's ARG defaults put in. */
    private static String env(String key) {
        String found = null;
        Pattern p = Pattern.compile("(?:^|\\s)" + Pattern.quote(key) + "=(\\S+)");
        for (String env : values("ENV")) {
            Matcher m = p.matcher(env);
            if (m.find()) {
                found = m.group(1);
            }
        }
        assertThat(found).as("ENV %s in %s", key, DOCKERFILE).isNotNull();
        return expand(found);
    }

    private static String expand(String s) {
        Matcher m = Pattern.compile("\\$\\{?(\\w+)}?").matcher(s);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            m.appendReplacement(out, Matcher.quoteReplacement(args.getOrDefault(m.group(1), m.group())));
        }
        return m.appendTail(out).toString();
    }

    private static int pgMajor() {
        String major = args.get("PG_MAJOR");
        assertThat(major).as("a global ARG PG_MAJOR with a default in %s", DOCKERFILE).isNotNull().matches("\\d+");
        return Integer.parseInt(major);
    }

    /**
     * The PostgreSQL client tools the code starts: the tool names it hands to {@code PostgresConnector.start} and
     * {@code toolVersion}, found as whole string literals ({@code "pg_dump"}) anywhere in the main sources.
     */
    static Set<String> postgresToolsTheCodeRuns() throws IOException {
        Set<String> tools = new TreeSet<>();
        Pattern literal = Pattern.compile("\"(pg_[a-z_]+|psql|createdb|dropdb|vacuumdb|reindexdb|clusterdb)\"");
        try (Stream<Path> files = Files.walk(MAIN_SOURCES)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                Matcher m = literal.matcher(Files.readString(f, StandardCharsets.UTF_8));
                while (m.find()) {
                    tools.add(m.group(1));
                }
            }
        }
        return tools;
    }

    @Test
    void runsAsANumericNonRootUser() {
        String user = last("USER");
        assertThat(user).matches("\\d+(:\\d+)?");
        assertThat(Integer.parseInt(user.split(":")[0])).isPositive();
        assertThat(user.contains(":") ? Integer.parseInt(user.split(":")[1]) : 1).isPositive();
    }

    @Test
    void theEntrypointIsTheLauncherWithTheJarAndItsArchiveBesideIt() {
        assertThat(last("ENTRYPOINT")).isEqualTo("[\"/usr/local/bin/dify-dr\"]");
        assertThat(values("COPY")).anyMatch(c -> c.matches("(--\\S+\\s+)*dify-dr\\s+/usr/local/bin/dify-dr"));
        String jar = env("DIFY_DR_JAR");
        assertThat(jar).endsWith(".jar");
        assertThat(values("COPY")).anyMatch(c -> c.endsWith(" " + jar));
        // the launcher picks up <jar without .jar>.jsa: the archive must be written there, by the image's own JVM
        String jsa = jar.replaceAll("\\.jar$", ".jsa");
        assertThat(values("RUN")).anyMatch(r -> r.contains("-XX:ArchiveClassesAtExit=" + jsa) && r.contains("test -s " + jsa));
    }

    @Test
    void writesOnlyUnderTmpWithAUtf8Locale() {
        assertThat(last("WORKDIR")).isEqualTo("/tmp");
        assertThat(env("HOME")).isEqualTo("/tmp");
        assertThat(env("LANG")).isEqualTo("C.UTF-8");
    }

    @Test
    void installsTheClientToolsOfPostgreSql17OrNewerFirstOnThePath() {
        assertThat(pgMajor()).isGreaterThanOrEqualTo(17);
        assertThat(values("RUN")).anyMatch(r -> r.contains("apt.postgresql.org") && r.contains("-pgdg main"));
        assertThat(values("RUN")).anyMatch(r -> r.matches(".*apt-get install .*postgresql-client-\\$\\{?PG_MAJOR}?\\b.*"));
        assertThat(env("PATH")).startsWith("/usr/lib/postgresql/" + pgMajor() + "/bin:");
    }

    @Test
    void everyPostgreSqlToolTheCodeRunsIsInThePackageAndCheckedAtBuildTime() throws IOException {
        Set<String> tools = postgresToolsTheCodeRuns();
        assertThat(tools).as("tools found in %s", MAIN_SOURCES).contains("pg_dump", "pg_restore", "pg_basebackup");
        assertThat(CLIENT_PACKAGE_TOOLS).containsAll(tools);
        Matcher loop = Pattern.compile("for tool in ([a-z_ ]+); do \"\\$tool\" --version").matcher(String.join("\n", values("RUN")));
        assertThat(loop.find()).as("a build step that runs each tool's --version").isTrue();
        assertThat(Set.of(loop.group(1).trim().split("\\s+"))).containsAll(tools);
    }

    @Test
    void installsTarAndLeavesNoDownloadToolsOrAptListsBehind() {
        List<String> installs = values("RUN").stream().filter(r -> r.contains("apt-get install")).toList();
        assertThat(installs).anyMatch(r -> r.matches(".*apt-get install [^;&]*\\btar\\b.*"));
        for (String run : installs) {
            for (String word : run.replaceAll(".*apt-get install ", "").split("[;&]")[0].split("\\s+")) {
                assertThat(FETCH_TOOLS).as("installed in the final image: %s", run).doesNotContain(word);
            }
            assertThat(run).as("the apt lists go in the layer that fetched them").contains("rm -rf /var/lib/apt/lists/*");
        }
    }

    @Test
    void labelsTheImageTheOciWay() {
        String labels = String.join(" ", values("LABEL"));
        assertThat(labels).contains("org.opencontainers.image.source=", "org.opencontainers.image.version=",
                "org.opencontainers.image.licenses=");
    }

    private static Element jibPlugin() throws Exception {
        Document pom = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(POM.toFile());
        NodeList plugins = pom.getElementsByTagName("plugin");
        for (int i = 0; i < plugins.getLength(); i++) {
            Element p = (Element) plugins.item(i);
            if ("jib-maven-plugin".equals(text(p, "artifactId")) && p.getParentNode().getParentNode().getNodeName().equals("build")) {
                return p;
            }
        }
        throw new AssertionError("no jib-maven-plugin in <build><plugins> of " + POM);
    }

    private static String text(Element parent, String child) {
        for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element e && e.getTagName().equals(child)) {
                return e.getTextContent().strip();
            }
        }
        return null;
    }

    private static Element child(Element parent, String... path) {
        Element e = parent;
        for (String name : path) {
            Element next = null;
            for (Node n = e.getFirstChild(); n != null; n = n.getNextSibling()) {
                if (n instanceof Element c && c.getTagName().equals(name)) {
                    next = c;
                }
            }
            assertThat(next).as("<%s> under <%s> of the Jib plugin", name, e.getTagName()).isNotNull();
            e = next;
        }
        return e;
    }

    @Test
    void jibIsBoundToNoPhaseAndRunsAsANumericNonRootUser() throws Exception {
        Element jib = jibPlugin();
        assertThat(jib.getElementsByTagName("executions").getLength()).as("jib-maven-plugin <executions>").isZero();
        assertThat(jib.getElementsByTagName("phase").getLength()).isZero();
        String user = child(jib, "configuration", "container", "user").getTextContent().strip();
        assertThat(user).matches("\\d+(:\\d+)?");
        assertThat(Integer.parseInt(user.split(":")[0])).isPositive();
        assertThat(user).isEqualTo(last("USER"));
        assertThat(child(jib, "configuration", "from", "image").getTextContent().strip()).isEqualTo("${jib.from.image}");
    }

    @Test
    void jibStartsTheMainClassAsTheLauncherDoes() throws Exception {
        String launcher = Files.readString(LAUNCHER, StandardCharsets.UTF_8);
        Matcher defaults = Pattern.compile("opts=\\$\\{DIFY_DR_JAVA_OPTS:-([^}]+)}").matcher(launcher);
        assertThat(defaults.find()).as("the launcher's default JVM options").isTrue();
        String pom = Files.readString(POM, StandardCharsets.UTF_8);
        Matcher main = Pattern.compile("ManifestResourceTransformer\">\\s*<mainClass>([\\w.]+)</mainClass>").matcher(pom);
        assertThat(main.find()).as("the shaded jar's main class").isTrue();
        assertThat(child(jibPlugin(), "configuration", "container", "mainClass").getTextContent().strip()).isEqualTo(main.group(1));

        NodeList entrypoint = child(jibPlugin(), "configuration", "container", "entrypoint").getElementsByTagName("arg");
        List<String> command = new ArrayList<>();
        for (int i = 0; i < entrypoint.getLength(); i++) {
            command.add(entrypoint.item(i).getTextContent().strip());
        }
        assertThat(command).hasSizeGreaterThanOrEqualTo(3);
        assertThat(command.subList(0, 2)).containsExactly("/bin/sh", "-c");
        String script = command.get(2);
        assertThat(script).contains("$DIFY_DR_JAVA_OPTS", "'" + defaults.group(1) + "'",
                "exec java $opts -cp @/app/jib-classpath-file " + main.group(1) + " \"$@\"");
        assertThat(script).as("Maven would interpolate ${…}").doesNotContain("${");
    }
}
