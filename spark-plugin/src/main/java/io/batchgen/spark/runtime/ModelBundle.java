package io.batchgen.spark.runtime;

import io.batchgen.engine.model.LoadedModel;
import io.batchgen.engine.model.ModelLoader;
import io.batchgen.io.Provenance;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One model as an executor holds it, loaded once whatever runs it: the memory-mapped weights,
 * the tokenizer, the chat templates (as {@link PromptEncoder}s, parsed once per template name and
 * variables), and the model's fingerprint and provenance (hashed once). The
 * {@link ModelRuntime}s of every engine setting that runs this model share it.
 *
 * <p>Thread-safe. Owned and closed by {@link ExecutorRuntime}.
 */
public final class ModelBundle implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ModelBundle.class);

  private final Path path;
  private final LoadedModel model;
  private final Provenance provenance;
  /** By template name and variables. */
  private final Map<String, PromptEncoder> encoders = new ConcurrentHashMap<>();

  private ModelBundle(Path path, LoadedModel model, Provenance provenance) {
    this.path = path;
    this.model = model;
    this.provenance = provenance;
  }

  /**
   * Loads the model at {@code modelPath} (as the job named it; provenance keeps that name).
   *
   * @throws RuntimeException from the loader, naming the file and the problem
   */
  static ModelBundle load(String modelPath) {
    long t0 = System.nanoTime();
    Path path = Path.of(modelPath);
    LoadedModel model = ModelLoader.load(path);
    try {
      model.tokenizer();
      Provenance provenance = new Provenance(modelPath, ModelFingerprint.of(path),
          EngineVersion.get());
      LOG.info("Model {} loaded in {} ms ({})", path.getFileName(),
          (System.nanoTime() - t0) / 1_000_000, model.shape());
      return new ModelBundle(path, model, provenance);
    } catch (RuntimeException | Error e) {
      model.close();
      throw e;
    }
  }

  LoadedModel model() {
    return model;
  }

  public Provenance provenance() {
    return provenance;
  }

  /**
   * How prompts become ids for a job: its chat template ({@code templateName}, null for the
   * default) with its extra variables ({@code variablesJson}, a JSON object or empty).
   */
  public PromptEncoder promptEncoder(String templateName, String variablesJson) {
    String key = templateName + "\u0000" + variablesJson;
    return encoders.computeIfAbsent(key, k -> {
      PromptEncoder e = PromptEncoder.of(model.tokenizer(), path, model.embeddedChatTemplates(),
          templateName, variablesJson);
      if (!e.hasChatTemplate()) {
        LOG.info("Model {} has no usable chat template{}; chat-message prompts will be rejected",
            path.getFileName(), templateName == null ? "" : " named " + templateName);
      }
      return e;
    });
  }

  @Override
  public void close() {
    model.close();
  }
}
