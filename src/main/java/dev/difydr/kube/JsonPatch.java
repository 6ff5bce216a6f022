package dev.difydr.kube;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.dsl.Resource;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;

/**
 * An RFC 6902 patch. Changes go through JSON patches rather than read-modify-write edits: a {@code test} operation
 * makes a change conditional on exactly the value it replaces, without failing whenever a controller has merely
 * updated the object's status meanwhile (as a whole-object resourceVersion check would).
 */
final class JsonPatch {
    private final ArrayNode ops = JsonNodeFactory.instance.arrayNode();

    JsonPatch test(String path, Object value) {
        return op("test", path, value);
    }

    JsonPatch add(String path, Object value) {
        return op("add", path, value);
    }

    JsonPatch replace(String path, String value) {
        return op("replace", path, value);
    }

    private JsonPatch op(String op, String path, Object value) {
        ObjectNode o = ops.addObject().put("op", op).put("path", path);
        o.set("value", dev.difydr.repository.Json.MAPPER.valueToTree(value));
        return this;
    }

    <T extends HasMetadata> void applyTo(Resource<T> resource) {
        resource.patch(PatchContext.of(PatchType.JSON), ops.toString());
    }

    /** A JSON pointer segment: {@code ~} and {@code /} escaped. */
    static String segment(String key) {
        return key.replace("~", "~0").replace("/", "~1");
    }
}
