package dev.difydr.chart;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.marcnuri.helm.Helm;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The chart in {@code charts/dify-dr}, rendered by Helm's own engine (helm-java) and read back as Kubernetes objects. */
public final class HelmChart {
    static final Path DIR = Path.of("charts/dify-dr");
    static final String RELEASE = "dify-dr";
    static final String NAMESPACE = "dify-dr";
    static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    private HelmChart() {
    }

    /** {@code helm template dify-dr charts/dify-dr -n dify-dr -f <values>}; throws with Helm's message when it fails. */
    public static String template(String valuesYaml, Path tempDir) {
        try {
            Path values = Files.createTempFile(tempDir, "values-", ".yaml");
            Files.writeString(values, valuesYaml, StandardCharsets.UTF_8);
            return new Helm(DIR).template().withName(RELEASE).withNamespace(NAMESPACE).withValuesFile(values).call();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Every document of a rendering, as fabric8 model objects. */
    public static List<HasMetadata> objects(String rendered) {
        List<HasMetadata> out = new ArrayList<>();
        for (String doc : rendered.split("(?m)^---\\s*$")) {
            boolean empty = doc.lines().allMatch(l -> l.isBlank() || l.startsWith("#"));
            if (!empty) {
                out.add(Serialization.unmarshal(doc, HasMetadata.class));
            }
        }
        return out;
    }

    public static <T extends HasMetadata> List<T> all(List<HasMetadata> objects, Class<T> kind) {
        return objects.stream().filter(kind::isInstance).map(kind::cast).toList();
    }

    /** A YAML text as a map, e.g. a rendered configuration. */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> map(String yaml) {
        try {
            return YAML.readValue(yaml, Map.class);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
