package io.batchgen.spark.sql;

import io.batchgen.engine.model.LoadedModel;
import io.batchgen.engine.model.ModelLoader;
import io.batchgen.spark.runtime.ModelFingerprint;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * Checks on the driver, before any task starts, that the model option names a loadable model
 * (config, weights headers, tokenizer), so a bad path fails the job plan rather than every task.
 * Loading memory-maps the weights; nothing is read beyond headers.
 */
final class ModelCheck {
  private ModelCheck() {
  }

  /**
   * What a check learned of a model: its context length and fingerprint, and the modification
   * time the model had then.
   */
  record Checked(FileTime modified, int context, String fingerprint) {
  }

  /** Models already checked in this driver JVM. */
  private static final Map<Path, Checked> CHECKED = new ConcurrentHashMap<>();

  /**
   * Checks the model; returns its context length (prompt and completion together) and its
   * fingerprint, computed once per model version in this driver.
   *
   * @throws IllegalArgumentException naming option 'model', the path and the problem
   */
  static Checked check(String modelPath) {
    Path path = Path.of(modelPath).toAbsolutePath().normalize();
    FileTime modified = lastModified(path);
    Checked known = CHECKED.get(path);
    if (modified != null && known != null && modified.equals(known.modified())) {
      return known;
    }
    if (!Files.exists(path)) {
      throw new IllegalArgumentException("Option 'model' names [" + modelPath + "], which does not "
          + "exist. Give a Hugging Face model directory or a GGUF file readable from the driver "
          + "and every executor (make one with: bin/batchgen make-model --out DIR).");
    }
    int context;
    try (LoadedModel model = ModelLoader.load(path)) {
      model.tokenizer();
      context = model.shape().maxPositions();
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("Option 'model' names [" + modelPath + "], which cannot "
          + "be loaded: " + e.getMessage(), e);
    }
    Checked checked = new Checked(modified, context, ModelFingerprint.of(path));
    if (modified != null) {
      CHECKED.put(path, checked);
    }
    return checked;
  }

  /**
   * Checks the model and that option {@code maxNewTokens} fits its context.
   *
   * @throws IllegalArgumentException naming the option and the fix
   */
  static Checked check(JobOptions options) {
    Checked checked = check(options.engine().modelPath());
    int context = checked.context();
    int maxNew = options.generation().maxNewTokens();
    if (maxNew >= context) {
      throw new IllegalArgumentException("Option 'maxNewTokens' is " + maxNew
          + " but the model's context is " + context + " tokens, prompt and completion together."
          + " Set it below " + context + " (rows may still lower it with column max_new_tokens).");
    }
    return checked;
  }

  /** The newest modification time of the model file or of any file in the model folder. */
  private static FileTime lastModified(Path path) {
    try (Stream<Path> files = Files.isDirectory(path) ? Files.list(path) : Stream.of(path)) {
      return files.map(f -> {
        try {
          return Files.getLastModifiedTime(f);
        } catch (IOException e) {
          return FileTime.fromMillis(0);
        }
      }).max(FileTime::compareTo).orElse(null);
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }
}
