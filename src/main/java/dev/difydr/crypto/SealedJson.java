package dev.difydr.crypto;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A JSON document that carries its own seal in a top-level {@value #FIELD} field: {@code {"keyId": …, "value": …}}
 * over the document's canonical form without that field (keys sorted at every level, no whitespace), so that the
 * document may be pretty-printed and its fields reordered, and a reader that ignores unknown fields still checks
 * every byte that was sealed.
 */
public final class SealedJson {
    public static final String FIELD = "seal";
    private static final ObjectMapper COMPACT = new ObjectMapper();

    private SealedJson() {
    }

    /** {@code document} with a seal under {@code keyring} in {@code context}. */
    public static ObjectNode seal(ObjectNode document, Keyring keyring, String context) {
        ObjectNode out = document.deepCopy();
        out.remove(FIELD);
        Keyring.Seal seal = keyring.seal(context, canonical(out));
        ObjectNode s = out.putObject(FIELD);
        s.put("keyId", seal.keyId());
        s.put("value", seal.value());
        return out;
    }

    /**
     * Why {@code document} is not authentic in {@code context}, or null when its seal opens under {@code keyring}.
     * {@code what} names the document in the message.
     */
    public static String problem(JsonNode document, Keyring keyring, String context, String what) {
        JsonNode s = document.get(FIELD);
        if (s == null || !s.isObject()) {
            return what + " carries no seal, and encryption is configured: it was written without encryption, or by someone"
                    + " without the keyset";
        }
        long keyId = s.path("keyId").asLong(-1);
        if (!keyring.has(keyId)) {
            return what + " is sealed under key " + keyId + ", which the keyset lacks (keys " + keyring.ids()
                    + "): give the keyset it was written with";
        }
        ObjectNode rest = ((ObjectNode) document).deepCopy();
        rest.remove(FIELD);
        if (!keyring.opens(new Keyring.Seal(keyId, s.path("value").asText(null)), context, canonical(rest))) {
            return what + "'s seal does not match it: it was changed after it was written, or it belongs to another"
                    + " deployment or backup, or key " + keyId + " of this keyset is not the key of that id it was sealed with"
                    + " (when every backup shows this, the keyset is the wrong one)";
        }
        return null;
    }

    static byte[] canonical(JsonNode node) {
        try {
            return COMPACT.writeValueAsBytes(sorted(node));
        } catch (IOException e) {
            throw new IllegalStateException("cannot serialise a JSON tree", e);
        }
    }

    private static JsonNode sorted(JsonNode node) {
        if (node.isObject()) {
            List<Map.Entry<String, JsonNode>> fields = new ArrayList<>();
            node.fields().forEachRemaining(fields::add);
            fields.sort(Map.Entry.comparingByKey());
            ObjectNode out = JsonNodeFactory.instance.objectNode();
            for (Map.Entry<String, JsonNode> f : fields) {
                out.set(f.getKey(), sorted(f.getValue()));
            }
            return out;
        }
        if (node.isArray()) {
            var out = JsonNodeFactory.instance.arrayNode();
            node.forEach(e -> out.add(sorted(e)));
            return out;
        }
        return node;
    }
}
