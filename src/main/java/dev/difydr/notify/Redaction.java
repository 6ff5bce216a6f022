package dev.difydr.notify;

import dev.difydr.config.Config;
import dev.difydr.config.NotificationConfig;
import dev.difydr.config.Secret;
import java.lang.reflect.RecordComponent;
import java.net.URI;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Masks every secret value of a configuration in a text: each {@link Secret} anywhere in it, and each notification URL
 * with its tokens (path segments and query values). Error messages are written without secrets already; this catches
 * one that slipped into a message from a library or a server's answer before it reaches a chat or a log.
 */
public final class Redaction {
    /** Shorter values are left alone: masking "dify" or "1" would mangle the text and protect nothing. */
    private static final int SHORTEST = 6;
    /** Path segments at least this long are taken for tokens. */
    private static final int TOKEN_LENGTH = 16;
    private final List<String> values;

    Redaction(Collection<String> values) {
        this.values = values.stream().filter(v -> v != null && v.length() >= SHORTEST).distinct()
                .sorted(Comparator.comparingInt(String::length).reversed()).toList();
    }

    public static Redaction of(Config config) {
        Set<String> found = new LinkedHashSet<>();
        collect(config, found, 0);
        for (NotificationConfig n : config.notifications()) {
            found.add(n.url());
            try {
                URI u = new URI(n.url());
                if (u.getPath() != null) {
                    // Slack's and Feishu's tokens are long path segments; "hooks" or "dify-dr" are not secrets
                    List.of(u.getPath().split("/")).stream().filter(segment -> segment.length() >= TOKEN_LENGTH).forEach(found::add);
                }
                if (u.getRawQuery() != null) {
                    for (String pair : u.getRawQuery().split("&")) {
                        found.add(pair.substring(pair.indexOf('=') + 1));
                    }
                }
            } catch (Exception e) {
                // not a URL: the validation said so; the whole string is masked above
            }
        }
        return new Redaction(found);
    }

    private static void collect(Object node, Set<String> found, int depth) {
        if (node == null || depth > 8) {
            return;
        }
        if (node instanceof Secret s) {
            found.add(s.reveal());
        } else if (node instanceof Collection<?> c) {
            c.forEach(e -> collect(e, found, depth + 1));
        } else if (node.getClass().isRecord()) {
            for (RecordComponent rc : node.getClass().getRecordComponents()) {
                try {
                    collect(rc.getAccessor().invoke(node), found, depth + 1);
                } catch (ReflectiveOperationException e) {
                    throw new IllegalStateException("cannot read " + rc, e);
                }
            }
        }
    }

    public String apply(String text) {
        if (text == null) {
            return null;
        }
        String out = text;
        for (String v : values) {
            out = out.replace(v, Secret.MASK);
        }
        return out;
    }
}
