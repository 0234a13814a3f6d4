package io.batchgen.spark.sql;

import io.batchgen.engine.model.LoadedModel;
import io.batchgen.engine.model.ModelLoader;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Checks on the driver, before any task starts, that the model option names a loadable model
 * (config, weights headers, tokenizer), so a bad path fails the job plan rather than every task.
 * Loading memory-maps the weights; nothing is read beyond headers.
 */
final class ModelCheck {
  private ModelCheck() {
  }

  static void check(String modelPath) {
    Path path = Path.of(modelPath);
    if (!Files.exists(path)) {
      throw new IllegalArgumentException("Option 'model' names [" + modelPath + "], which does not "
          + "exist. Give a Hugging Face model directory or a GGUF file readable from the driver "
          + "and every executor (make one with: bin/batchgen make-model --out DIR).");
    }
    try (LoadedModel model = ModelLoader.load(path)) {
      model.tokenizer();
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("Option 'model' names [" + modelPath + "], which cannot "
          + "be loaded: " + e.getMessage(), e);
    }
  }
}
