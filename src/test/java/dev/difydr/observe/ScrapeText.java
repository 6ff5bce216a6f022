package dev.difydr.observe;

import java.util.LinkedHashMap;
import java.util.Map;

/** Samples of a Prometheus text exposition, by series ({@code name{labels}} as written) to value. */
final class ScrapeText {
    private ScrapeText() {
    }

    static Map<String, Double> samples(String text) {
        Map<String, Double> out = new LinkedHashMap<>();
        for (String line : text.split("\n")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            int space = line.lastIndexOf(' ');
            out.put(line.substring(0, space), Double.parseDouble(line.substring(space + 1)));
        }
        return out;
    }
}
