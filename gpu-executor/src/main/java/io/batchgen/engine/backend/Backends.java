package io.batchgen.engine.backend;

import io.batchgen.core.model.ModuleExecutor;
import io.batchgen.engine.model.LoadedModel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Creates module executors by backend name. */
public final class Backends {
  private static final Logger LOG = LoggerFactory.getLogger(Backends.class);

  /** Names accepted by {@link #create}. */
  public static final String NAMES = "reference, cpu, auto";

  private Backends() {
  }

  /**
   * Creates an executor for {@code model}.
   *
   * @param name    {@code reference} (the slow oracle), {@code cpu} (Vector API, multithreaded)
   *                or {@code auto} (the best available; today {@code cpu})
   * @param threads worker threads for {@code cpu}; ignored by {@code reference}
   * @throws IllegalArgumentException for an unknown name or a non-positive thread count
   */
  public static ModuleExecutor create(String name, LoadedModel model, int threads) {
    if (threads <= 0) {
      throw new IllegalArgumentException("Backend threads must be positive, got " + threads);
    }
    return switch (name) {
      case "reference" -> new ReferenceExecutor(model);
      case "cpu" -> new CpuExecutor(model, threads);
      case "auto" -> {
        LOG.info("Backend auto: using cpu with {} threads (this build has no CUDA backend)",
            threads);
        yield new CpuExecutor(model, threads);
      }
      default -> throw new IllegalArgumentException("Unknown backend [" + name + "]; supported: "
          + NAMES);
    };
  }
}
