package io.batchgen.spark.sql;

import io.batchgen.engine.model.LoadedModel;
import io.batchgen.engine.model.ModelLoader;
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

  /** What a check learned of a model, and the modification time the model had then. */
  private record Checked(FileTime modified, int context) {
  }

  /** Models already checked in this driver JVM. */
  private static final Map<Path, Checked> CHECKED = new ConcurrentHashMap<>();

  /**
   * Checks the model and returns its context length (prompt and completion together).
   *
   * @throws IllegalArgumentException naming option 'model', the path and the problem
   */
  static int check(String modelPath) {
    Path path = Path.of(modelPath).toAbsolutePath().normalize();
    FileTime modified = lastModified(path);
    Checked known = CHECKED.get(path);
    if (modified != null && known != null && modified.equals(known.modified())) {
      return known.context();
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
    if (modified != null) {
      CHECKED.put(path, new Checked(modified, context));
    }
    return context;
  }

  /**
   * Checks the model and that option {@code maxNewTokens} fits its context.
   *
   * @throws IllegalArgumentException naming the option and the fix
   */
  static void check(JobOptions options) {
    int context = check(options.engine().modelPath());
    if (options.generation().maxNewTokens() >= context) {
      throw new IllegalArgumentException("Option 'maxNewTokens' is " + options.generation().maxNewTokens()
          + " but the model's context is " + context + " tokens, prompt and completion together."
          + " Set it below " + context + " (rows may still lower it with column max_new_tokens).");
    }
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
