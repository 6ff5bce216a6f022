package dev.difydr;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.xpath.XPathFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;

class VersionTest {
    /** Tests run from target/classes, which has no jar manifest: as in the Jib image, the version comes from the resource. */
    @Test
    void isThePomsVersionAlsoWithoutTheJarsManifest() throws Exception {
        assertThat(Version.class.getPackage().getImplementationVersion()).isNull();
        Document pom = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(Path.of("pom.xml").toFile());
        String version = XPathFactory.newInstance().newXPath().evaluate("/project/version", pom);
        assertThat(version).isNotBlank();
        assertThat(Version.current()).isEqualTo(version);
    }
}
