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

  /** Models already checked in this driver JVM, with the modification time they had then. */
  private static final Map<Path, FileTime> CHECKED = new ConcurrentHashMap<>();

  static void check(String modelPath) {
    Path path = Path.of(modelPath).toAbsolutePath().normalize();
    FileTime modified = lastModified(path);
    if (modified != null && modified.equals(CHECKED.get(path))) {
      return;
    }
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
    if (modified != null) {
      CHECKED.put(path, modified);
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
