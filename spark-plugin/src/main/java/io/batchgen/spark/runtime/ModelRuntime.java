package io.batchgen.spark.runtime;

import io.batchgen.core.runtime.SequenceRuntime;
import io.batchgen.engine.run.Engine;
import io.batchgen.engine.tokenizer.TextTokenizer;
import io.batchgen.io.ChatTemplate;
import io.batchgen.io.Provenance;
import java.nio.file.Files;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One model running on one executor: the loaded checkpoint, its backend, tokenizer, optional
 * chat template, and the {@link SequenceRuntime} that every task of the executor submits to, so
 * their sequences batch together.
 *
 * <p>Thread-safe: tasks call {@link #runtime()}, {@link #tokenizer()} and the rest concurrently.
 * Closed by {@link ExecutorRuntimes} when the executor shuts down.
 */
public final class ModelRuntime implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ModelRuntime.class);

  private final EngineSpec spec;
  private final Engine engine;
  private final ChatTemplate chatTemplate;
  private final Provenance provenance;

  private ModelRuntime(EngineSpec spec, Engine engine, ChatTemplate chatTemplate,
      Provenance provenance) {
    this.spec = spec;
    this.engine = engine;
    this.chatTemplate = chatTemplate;
    this.provenance = provenance;
  }

  /** Loads the model and starts its runtime; {@code threads} is the resolved thread count. */
  static ModelRuntime start(EngineSpec spec, int threads) {
    long t0 = System.nanoTime();
    Path path = Path.of(spec.modelPath());
    Engine engine = Engine.open(path, spec.backend(), threads, spec.runtimeConfig());
    try {
      engine.tokenizer();
      ChatTemplate template = null;
      if (Files.isDirectory(path)) {
        try {
          template = ChatTemplate.fromModelDirectory(path);
        } catch (IllegalArgumentException noTemplate) {
          LOG.info("Model {} has no chat template; chat-message prompts will be rejected", path);
        }
      }
      Provenance provenance = new Provenance(spec.modelPath(), ModelFingerprint.of(path),
          EngineVersion.get());
      LOG.info("Runtime for model {} started in {} ms: backend {}, mode {}, {}",
          path.getFileName(), (System.nanoTime() - t0) / 1_000_000, engine.describeBackend(),
          spec.schedulingMode(), engine.shape());
      return new ModelRuntime(spec, engine, template, provenance);
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

  /** The model's chat template, or null when it has none. */
  public ChatTemplate chatTemplate() {
    return chatTemplate;
  }

  public Provenance provenance() {
    return provenance;
  }

  @Override
  public void close() {
    engine.close();
  }
}
