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

  /**
   * A tokenizer alone, without weights: a directory with {@code tokenizer.json} (and
   * {@code tokenizer_config.json}; model files may be there too but are not read), a
   * {@code .gguf} file, or a directory holding exactly one. The caller closes the tokenizer.
   *
   * @throws ModelFormatException naming the path and what is missing
   */
  public static LoadedTokenizer loadTokenizer(Path path) {
    if (!Files.exists(path)) {
      throw ModelFormatException.of(path, "path does not exist; give a directory with"
          + " tokenizer.json or a .gguf file");
    }
    if (Files.isDirectory(path) && Files.exists(path.resolve("tokenizer.json"))) {
      int[] eos = new int[0];
      if (Files.exists(path.resolve("config.json"))) {
        eos = Json.read(path.resolve("config.json")).intOrList("eos_token_id");
      }
      Path gen = path.resolve("generation_config.json");
      if (Files.exists(gen) && Json.read(gen).intOrList("eos_token_id").length > 0) {
        eos = Json.read(gen).intOrList("eos_token_id");
      }
      return new LoadedTokenizer(path, "hf", HfTextTokenizer.open(path, eos), null);
    }
    Path file = Files.isDirectory(path) ? singleGguf(path) : path;
    GgufFile gguf = GgufFile.open(file);
    return new LoadedTokenizer(file, "gguf", GgufCheckpoint.tokenizer(gguf),
        GgufCheckpoint.chatTemplates(gguf));
  }

  private static Path singleGguf(Path dir) {
    List<Path> ggufs;
    try (var s = Files.list(dir)) {
      ggufs = s.filter(p -> p.getFileName().toString().endsWith(".gguf")).sorted().toList();
    } catch (IOException e) {
      throw ModelFormatException.of(dir, "cannot list directory: " + e.getMessage(), e);
    }
    if (ggufs.size() != 1) {
      throw ModelFormatException.of(dir, ggufs.isEmpty()
          ? "directory has no tokenizer.json and no .gguf file"
          : "directory has no tokenizer.json and several .gguf files " + ggufs
              + "; point at one of them");
    }
    return ggufs.get(0);
  }

  private static LoadedModel loadHf(Path dir) {
    ModelConfig config = HfCheckpoint.parseConfig(dir);
    ModelWeights weights = HfCheckpoint.weights(config, HfCheckpoint.openTensors(dir));
    return new LoadedModel(dir, "hf", config, weights,
        () -> HfTextTokenizer.open(dir, config.eosTokenIds()), null);
  }

  private static LoadedModel loadGguf(Path file) {
    GgufFile gguf = GgufFile.open(file);
    ModelConfig config = GgufCheckpoint.parseConfig(gguf);
    ModelWeights weights = GgufCheckpoint.weights(config, gguf);
    return new LoadedModel(file, "gguf", config, weights, () -> GgufCheckpoint.tokenizer(gguf),
        GgufCheckpoint.chatTemplates(gguf));
  }
}
