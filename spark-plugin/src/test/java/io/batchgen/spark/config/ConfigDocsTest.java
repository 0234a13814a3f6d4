package io.batchgen.spark.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class ConfigDocsTest {

  @Test
  void committedConfigDocsMatchTheRegistry() throws Exception {
    Path docs = Path.of("..", "docs", "configs.md");
    assertThat(docs).as("docs/configs.md exists; regenerate with "
        + "io.batchgen.spark.config.ConfigDocs docs/configs.md").exists();
    assertThat(Files.readString(docs, StandardCharsets.UTF_8))
        .as("docs/configs.md is stale; regenerate it by running "
            + "io.batchgen.spark.config.ConfigDocs docs/configs.md")
        .isEqualTo(ConfigDocs.render());
  }

  @Test
  void everyEntryIsDocumentedAndKeyedConsistently() {
    for (ConfigEntry<?> e : BatchGenConfig.all()) {
      // spark.batchgen.<area>[.<sub-area>].<camelCaseName>, e.g. spark.batchgen.memory.weights.budget
      assertThat(e.key()).matches("spark\\.batchgen\\.[a-z]+(\\.[a-z]+)?\\.[a-z][A-Za-z]*");
      assertThat(e.doc()).isNotBlank();
      if (e.option() != null) {
        assertThat(e.option()).matches("[a-z][A-Za-z]*");
      }
    }
  }
}
