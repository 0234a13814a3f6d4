package io.batchgen.spark.runtime;

import io.batchgen.core.runtime.RuntimeConfig;
import io.batchgen.core.runtime.SequenceRuntime;
import io.batchgen.engine.run.Engine;
import io.batchgen.engine.tokenizer.TextTokenizer;
import io.batchgen.io.Provenance;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One model running under one {@link EngineSpec} on an executor: a backend and the
 * {@link SequenceRuntime} that every task of that spec submits to, so their sequences batch
 * together; the model itself is the shared {@link ModelBundle}.
 *
 * <p>Thread-safe: tasks call its methods concurrently. Owned and closed by
 * {@link ExecutorRuntime}, which hands it out with {@code acquire} and takes it back with
 * {@code release}.
 */
public final class ModelRuntime implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ModelRuntime.class);

  private final EngineSpec spec;
  private final ModelBundle bundle;
  private final Engine engine;

  private ModelRuntime(EngineSpec spec, ModelBundle bundle, Engine engine) {
    this.spec = spec;
    this.bundle = bundle;
    this.engine = engine;
  }

  /** Starts the runtime of {@code spec} on {@code bundle}'s model. */
  static ModelRuntime start(EngineSpec spec, ModelBundle bundle, int threads,
      RuntimeConfig config) {
    Engine engine = Engine.start(bundle.model(), spec.backend(), threads, config,
        spec.weights());
    LOG.info("Runtime for model {} started: backend {}, mode {}, {} threads",
        bundle.provenance().modelId(), engine.describeBackend(), spec.schedulingMode(), threads);
    return new ModelRuntime(spec, bundle, engine);
  }

  public EngineSpec spec() {
    return spec;
  }

  public ModelBundle bundle() {
    return bundle;
  }

  public SequenceRuntime runtime() {
    return engine.runtime();
  }

  public TextTokenizer tokenizer() {
    return engine.tokenizer();
  }

  /** See {@link ModelBundle#promptEncoder}. */
  public PromptEncoder promptEncoder(String templateName, String variablesJson) {
    return bundle.promptEncoder(templateName, variablesJson);
  }

  public Provenance provenance() {
    return bundle.provenance();
  }

  /** Stops the runtime (cancelling what still runs); the bundle stays open. */
  @Override
  public void close() {
    engine.close();
  }
}
