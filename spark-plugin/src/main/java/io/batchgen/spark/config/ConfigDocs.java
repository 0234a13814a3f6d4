package io.batchgen.spark.config;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Renders {@code docs/configs.md} from {@link BatchGenConfig}. Run {@code main} with the output
 * path to regenerate; {@code ConfigDocsTest} fails when the committed file is stale.
 */
public final class ConfigDocs {
  private ConfigDocs() {
  }

  public static String render() {
    StringBuilder sb = new StringBuilder();
    sb.append("# BatchGen configuration\n\n")
        .append("Generated from `io.batchgen.spark.config.BatchGenConfig` — do not edit by hand;\n")
        .append("regenerate by running `io.batchgen.spark.config.ConfigDocs docs/configs.md`\n")
        .append("(the test `ConfigDocsTest` fails while this file is stale).\n\n")
        .append("Precedence, highest first: DataFrame option, Spark conf key, default.\n")
        .append("Sizes and durations use Spark's forms (`512m`, `4g`, `500ms`, `2s`).\n")
        .append("Unknown options and unknown `spark.batchgen.*` keys are errors.\n\n")
        .append("| Option | Spark conf key | Type | Default | Meaning |\n")
        .append("|---|---|---|---|---|\n");
    for (ConfigEntry<?> e : BatchGenConfig.all()) {
      sb.append("| ").append(e.option() == null ? "—" : "`" + e.option() + "`")
          .append(" | `").append(e.key()).append("` | ").append(e.type())
          .append(" | ").append(e.defaultValue() == null ? "required"
              : e.defaultValue().isEmpty() ? "(empty)" : "`" + e.defaultValue() + "`")
          .append(" | ").append(e.doc().replace("|", "\\|")).append(" |\n");
    }
    return sb.toString();
  }

  public static void main(String[] args) throws IOException {
    Path out = Path.of(args.length > 0 ? args[0] : "docs/configs.md");
    Files.createDirectories(out.toAbsolutePath().getParent());
    Files.writeString(out, render(), StandardCharsets.UTF_8);
    System.out.println("wrote " + out);
  }
}
