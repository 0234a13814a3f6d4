package io.batchgen.engine.backend;

import io.batchgen.core.model.ModuleExecutor;
import io.batchgen.engine.backend.cuda.CudaBackend;
import io.batchgen.engine.backend.cuda.CudaProbe;
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
  public static final String NAMES = "reference, cpu, cuda, auto";
  private static final List<String> BUILT_IN = List.of("reference", "cpu", "cuda", "auto");
  /** The GPU a runtime gets when nothing binds it to one: the driver's device 0. */
  public static final int DEFAULT_GPU = -1;

  private Backends() {
  }

  /**
   * Creates an executor for {@code model}.
   *
   * @param name    {@code reference} (the slow oracle), {@code cpu} (Vector API, multithreaded),
   *                {@code cuda} (our kernels on a GPU, through JCuda's driver API) or {@code auto}
   *                (cuda when a usable GPU is there, else cpu; logged with the reason)
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
    return create(name, model, threads, width, weights, DEFAULT_GPU);
  }

  /**
   * As {@link #create(String, LoadedModel, int, VectorWidth, WeightSettings)}, with
   * {@code cuda} (and {@code auto}, when it picks cuda) bound to the GPU of driver ordinal
   * {@code gpu} ({@link #DEFAULT_GPU}: device 0), e.g. the one Spark's resource scheduling gave
   * the executor. The cuda backend holds every weight on the device and ignores {@code width}
   * and {@code weights}.
   */
  public static ModuleExecutor create(String name, LoadedModel model, int threads,
      VectorWidth width, WeightSettings weights, int gpu) {
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
      case "cuda" -> CudaBackend.create(model, Math.max(gpu, 0));
      case "auto" -> auto(model, threads, width, weights, gpu, CudaBackend.probe());
      default -> throw new IllegalArgumentException("Unknown backend [" + name + "]; supported: "
          + String.join(", ", names()));
    };
  }

  /**
   * What {@code auto} chose and the one line it logs saying why.
   *
   * @param backend {@code cuda} or {@code cpu}
   * @param line    the log line
   */
  record AutoChoice(String backend, String line) {
  }

  /** {@code auto}'s choice given the probe's answer: cuda when the GPU it binds to is usable. */
  static AutoChoice chooseAuto(CudaProbe probe, int threads, VectorWidth width, int gpu) {
    String cpu = "cpu with " + threads + " threads, " + width + " vectors";
    if (!probe.available()) {
      return new AutoChoice("cpu", "Backend auto: using " + cpu + ": cuda is not available ("
          + probe.reason() + ")");
    }
    int ordinal = Math.max(gpu, 0);
    for (CudaProbe.Device d : probe.devices()) {
      if (d.ordinal() == ordinal) {
        return new AutoChoice("cuda", "Backend auto: using cuda on " + d + " (found "
            + probe.reason() + ")");
      }
    }
    return new AutoChoice("cpu", "Backend auto: using " + cpu + ": GPU " + ordinal
        + " is not a usable CUDA device (found " + probe.reason() + ")");
  }

  private static ModuleExecutor auto(LoadedModel model, int threads, VectorWidth width,
      WeightSettings weights, int gpu, CudaProbe probe) {
    AutoChoice choice = chooseAuto(probe, threads, width, gpu);
    if (choice.backend().equals("cuda")) {
      try {
        ModuleExecutor cuda = CudaBackend.create(model, Math.max(gpu, 0));
        LOG.info(choice.line());
        return cuda;
      } catch (IllegalStateException | IllegalArgumentException e) {
        LOG.warn("Backend auto: using cpu with {} threads, {} vectors: cuda could not start"
            + " ({})", threads, width, e.getMessage());
        return new CpuExecutor(model, threads, width, weights);
      }
    }
    LOG.info(choice.line());
    return new CpuExecutor(model, threads, width, weights);
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
