package io.batchgen.engine.backend;

import io.batchgen.core.model.ModuleExecutor;
import io.batchgen.engine.model.LoadedModel;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Creates module executors by backend name: the built-in ones, and any {@link BackendProvider}
 * on the classpath.
 */
public final class Backends {
  private static final Logger LOG = LoggerFactory.getLogger(Backends.class);

  /** The built-in names accepted by {@link #create}. */
  public static final String NAMES = "reference, cpu, auto";
  private static final List<String> BUILT_IN = List.of("reference", "cpu", "auto");

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
    return create(name, model, threads, VectorWidth.preferred(), WeightSettings.defaults());
  }

  /**
   * {@link #create(String, LoadedModel, int)} with the {@code cpu} kernels at {@code width}
   * instead of the width this machine prefers (tests run every width; a width wider than the
   * hardware's is emulated, correct but slow). Other backends ignore it.
   */
  public static ModuleExecutor create(String name, LoadedModel model, int threads,
      VectorWidth width) {
    return create(name, model, threads, width, WeightSettings.defaults());
  }

  /**
   * Creates an executor for {@code model} whose weights are held as {@code weights} says
   * ({@code cpu}; {@code reference} and providers read the mapped weights and ignore it).
   *
   * @throws IllegalArgumentException as above, or when the weight budget cannot hold one module
   */
  public static ModuleExecutor create(String name, LoadedModel model, int threads,
      WeightSettings weights) {
    return create(name, model, threads, VectorWidth.preferred(), weights);
  }

  /** The cpu kernels at {@code width} with weights held as {@code weights} says. */
  public static ModuleExecutor create(String name, LoadedModel model, int threads,
      VectorWidth width, WeightSettings weights) {
    if (threads <= 0) {
      throw new IllegalArgumentException("Backend threads must be positive, got " + threads);
    }
    BackendProvider provider = BUILT_IN.contains(name) ? null : provider(name);
    if (provider != null) {
      return provider.create(model, threads);
    }
    return switch (name) {
      case "reference" -> new ReferenceExecutor(model);
      case "cpu" -> new CpuExecutor(model, threads, width, weights);
      case "auto" -> {
        LOG.info("Backend auto: using cpu with {} threads, {} vectors (this build has no CUDA"
            + " backend)", threads, width);
        yield new CpuExecutor(model, threads, width, weights);
      }
      default -> throw new IllegalArgumentException("Unknown backend [" + name + "]; supported: "
          + String.join(", ", names()));
    };
  }

  /** Every accepted name: the built-in ones, then those of providers on the classpath. */
  public static List<String> names() {
    List<String> names = new ArrayList<>(BUILT_IN);
    for (BackendProvider p : providers()) {
      if (!names.contains(p.name())) {
        names.add(p.name());
      }
    }
    return names;
  }

  private static BackendProvider provider(String name) {
    for (BackendProvider p : providers()) {
      if (p.name().equals(name)) {
        return p;
      }
    }
    return null;
  }

  private static List<BackendProvider> providers() {
    ClassLoader loader = Thread.currentThread().getContextClassLoader();
    List<BackendProvider> out = new ArrayList<>();
    for (BackendProvider p : ServiceLoader.load(BackendProvider.class,
        loader != null ? loader : Backends.class.getClassLoader())) {
      out.add(p);
    }
    return out;
  }
}
