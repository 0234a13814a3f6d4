package io.batchgen.spark.runtime;

import io.batchgen.core.runtime.RuntimeConfig;
import io.batchgen.core.runtime.SequenceRuntime;
import io.batchgen.engine.run.Engine;
import io.batchgen.engine.tokenizer.TextTokenizer;
import io.batchgen.io.Provenance;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One model running on one executor: the loaded checkpoint, its backend, tokenizer, the
 * {@link PromptEncoder}s of the chat templates jobs ask for, and the {@link SequenceRuntime}
 * that every task of the executor submits to, so their sequences batch together.
 *
 * <p>Thread-safe: tasks call {@link #runtime()}, {@link #tokenizer()} and the rest concurrently.
 * Closed by {@link ExecutorRuntimes} when the executor shuts down.
 */
public final class ModelRuntime implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ModelRuntime.class);

  private final EngineSpec spec;
  private final Engine engine;
  private final Provenance provenance;
  /** By template name and variables: parsed once per executor, shared by its tasks. */
  private final Map<String, PromptEncoder> encoders = new ConcurrentHashMap<>();

  private ModelRuntime(EngineSpec spec, Engine engine, Provenance provenance) {
    this.spec = spec;
    this.engine = engine;
    this.provenance = provenance;
  }

  /** Loads the model and starts its runtime; {@code threads} is the resolved thread count. */
  static ModelRuntime start(EngineSpec spec, int threads, RuntimeConfig config) {
    long t0 = System.nanoTime();
    Path path = Path.of(spec.modelPath());
    Engine engine = Engine.open(path, spec.backend(), threads, config);
    try {
      engine.tokenizer();
      Provenance provenance = new Provenance(spec.modelPath(), ModelFingerprint.of(path),
          EngineVersion.get());
      LOG.info("Runtime for model {} started in {} ms: backend {}, mode {}, {}",
          path.getFileName(), (System.nanoTime() - t0) / 1_000_000, engine.describeBackend(),
          spec.schedulingMode(), engine.shape());
      return new ModelRuntime(spec, engine, provenance);
    } catch (RuntimeException | Error e) {
      engine.close();
      throw e;
    }
  }

  public EngineSpec spec() {
    return spec;
  }

  public SequenceRuntime runtime() {
    return engine.runtime();
  }

  public TextTokenizer tokenizer() {
    return engine.tokenizer();
  }

  /**
   * How prompts become ids for a job: its chat template ({@code templateName}, null for the
   * default) with its extra variables ({@code variablesJson}, a JSON object or empty).
   */
  public PromptEncoder promptEncoder(String templateName, String variablesJson) {
    String key = templateName + "\u0000" + variablesJson;
    return encoders.computeIfAbsent(key, k -> {
      PromptEncoder e = PromptEncoder.of(engine.tokenizer(), Path.of(spec.modelPath()),
          engine.model().embeddedChatTemplates(), templateName, variablesJson);
      if (!e.hasChatTemplate()) {
        LOG.info("Model {} has no usable chat template{}; chat-message prompts will be rejected",
            Path.of(spec.modelPath()).getFileName(),
            templateName == null ? "" : " named " + templateName);
      }
      return e;
    });
  }

  public Provenance provenance() {
    return provenance;
  }

  @Override
  public void close() {
    engine.close();
  }
}
