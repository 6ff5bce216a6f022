package dev.difydr;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/**
 * The tool's version: the jar manifest's, else the one Maven filtered into {@code version.properties} (a classpath of
 * classes and jars has no manifest of ours, as in the image Jib builds), else "dev".
 */
public final class Version {
    private static final String CURRENT = find();

    private Version() {
    }

    public static String current() {
        return CURRENT;
    }

    private static String find() {
        String v = Version.class.getPackage().getImplementationVersion();
        if (v != null) {
            return v;
        }
        try (InputStream in = Version.class.getResourceAsStream("version.properties")) {
            if (in != null) {
                Properties p = new Properties();
                p.load(in);
                String filtered = p.getProperty("version", "");
                if (!filtered.isBlank() && !filtered.contains("${")) {
                    return filtered;
                }
            }
        } catch (IOException e) {
            // no readable version file: a build from classes Maven did not process
        }
        return "dev";
    }
}
