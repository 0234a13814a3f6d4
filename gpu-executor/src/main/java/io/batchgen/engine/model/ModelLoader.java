package io.batchgen.engine.model;

import io.batchgen.engine.format.ModelFormatException;
import io.batchgen.engine.format.gguf.GgufFile;
import io.batchgen.engine.tokenizer.HfTextTokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Opens a checkpoint: a Hugging Face directory ({@code config.json} + safetensors +
 * {@code tokenizer.json}), a {@code .gguf} file, or a directory holding exactly one {@code .gguf}.
 * Weights are memory-mapped and validated against the config before this returns.
 */
public final class ModelLoader {
  private ModelLoader() {
  }

  /**
   * Loads the model at {@code path}.
   *
   * @throws ModelFormatException naming the file and the problem when anything is missing,
   *     malformed, inconsistent or unsupported
   */
  public static LoadedModel load(Path path) {
    if (!Files.exists(path)) {
      throw ModelFormatException.of(path, "model path does not exist; set option 'model' to a"
          + " Hugging Face model directory or a .gguf file");
    }
    if (Files.isDirectory(path)) {
      if (Files.exists(path.resolve("config.json"))) {
        return loadHf(path);
      }
      List<Path> ggufs;
      try (var s = Files.list(path)) {
        ggufs = s.filter(p -> p.getFileName().toString().endsWith(".gguf")).sorted().toList();
      } catch (IOException e) {
        throw ModelFormatException.of(path, "cannot list directory: " + e.getMessage(), e);
      }
      if (ggufs.size() == 1) {
        return loadGguf(ggufs.get(0));
      }
      throw ModelFormatException.of(path, ggufs.isEmpty()
          ? "directory has no config.json and no .gguf file; it is not a model"
          : "directory has no config.json and several .gguf files " + ggufs
              + "; point at one of them");
    }
    return loadGguf(path);
  }

  private static LoadedModel loadHf(Path dir) {
    ModelConfig config = HfCheckpoint.parseConfig(dir);
    ModelWeights weights = HfCheckpoint.weights(config, HfCheckpoint.openTensors(dir));
    Path tok = dir.resolve("tokenizer.json");
    return new LoadedModel(dir, "hf", config, weights, () -> {
      if (!Files.exists(tok)) {
        throw ModelFormatException.of(tok, "file not found; the model has no tokenizer, pass"
            + " token ids instead of text");
      }
      return HfTextTokenizer.open(tok, config.eosTokenIds());
    });
  }

  private static LoadedModel loadGguf(Path file) {
    GgufFile gguf = GgufFile.open(file);
    ModelConfig config = GgufCheckpoint.parseConfig(gguf);
    ModelWeights weights = GgufCheckpoint.weights(config, gguf);
    return new LoadedModel(file, "gguf", config, weights, () -> GgufCheckpoint.tokenizer(gguf));
  }
}
