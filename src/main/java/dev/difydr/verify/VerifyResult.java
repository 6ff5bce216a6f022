package dev.difydr.verify;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.difydr.repository.Artifact;
import java.util.List;

public record VerifyResult(String id, boolean readData, List<Check> artifacts) implements dev.difydr.Printable {

    public boolean ok() {
        return artifacts.stream().allMatch(Check::ok);
    }

    @JsonProperty("status")
    public String status() {
        return ok() ? "ok" : "failed";
    }

    @JsonIgnore
    public List<Check> failures() {
        return artifacts.stream().filter(c -> !c.ok()).toList();
    }

    public String toText() {
        StringBuilder sb = new StringBuilder("verify " + id + (readData ? " (read data)" : " (sizes)") + ": " + status() + "\n");
        for (Check c : artifacts) {
            sb.append(c.ok() ? "  ok      " : "  FAILED  ").append(c.path()).append(": ").append(c.detail()).append('\n');
        }
        return sb.toString();
    }

    public record Check(String name, String path, boolean ok, String detail) {
        static Check ok(Artifact a, String detail) {
            return new Check(a.name(), a.path(), true, detail);
        }

        static Check failed(Artifact a, String detail) {
            return new Check(a.name(), a.path(), false, detail);
        }
    }
}
