package io.batchgen.spark.runtime;

import io.batchgen.core.runtime.RuntimeConfig;
import io.batchgen.core.runtime.RuntimeMetrics;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one BatchGen runtime of an executor JVM: created by the executor plugin when the executor
 * starts and closed when it stops (there is no other instance and no static state). It holds the
 * models the executor's tasks asked for ({@link ModelBundle}, loaded once per model) and the
 * coroutine runtimes that run them ({@link ModelRuntime}, one per {@link EngineSpec}): the first
 * task of a spec starts its runtime; every later task, concurrent or not, shares it, so their
 * sequences batch together. The load the executor reports to the driver is read from these
 * runtimes.
 *
 * <p>A runtime that failed is never handed out again: the next task gets a fresh one (the tasks
 * that used the failed one fail, and Spark retries them). Starting a runtime for a new spec first
 * closes the runtimes (and models) no task is using, so an executor holds one model's weights and
 * KV cache at a time unless tasks of several specs really run at once.
 *
 * <p>Thread-safe: any task thread may acquire and release; the reporter reads the load.
 */
public final class ExecutorRuntime implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ExecutorRuntime.class);
  private static final long MIN_AUTO_KV_BYTES = 64L << 20;

  /** The executor's compute threads: its cores (spark.executor.cores), resolved by the plugin. */
  private final int cores;
  private final long maxHeapBytes;
  private final Map<Path, ModelBundle> bundles = new HashMap<>();
  private final Map<EngineSpec, ModelRuntime> runtimes = new HashMap<>();
  private final Map<ModelRuntime, Integer> users = new HashMap<>();
  /** Runtimes retired after a failure while tasks still used them. */
  private final List<ModelRuntime> retired = new ArrayList<>();
  private final AtomicLong started = new AtomicLong();
  private final TaskRoutes routes = new TaskRoutes();
  /** What load reports read, without the lock a model load may hold for seconds. */
  private volatile List<ModelRuntime> running = List.of();
  private boolean closed;

  /**
   * @param cores        compute threads a spec asking for 0 threads gets
   * @param maxHeapBytes the heap an automatic KV cache budget is a quarter of
   */
  public ExecutorRuntime(int cores, long maxHeapBytes) {
    this.cores = Math.max(1, cores);
    this.maxHeapBytes = maxHeapBytes;
  }

  /**
   * The runtime for {@code spec}, started on first use (other callers wait meanwhile); the caller
   * must {@link #release} it when done.
   *
   * @throws IllegalStateException after {@link #close()}
   */
  public synchronized ModelRuntime acquire(EngineSpec spec) {
    if (closed) {
      throw new IllegalStateException("The BatchGen runtime of this executor is closed (the"
          + " executor is shutting down)");
    }
    ModelRuntime rt = runtimes.get(spec);
    if (rt != null && rt.runtime().failure() != null) {
      LOG.warn("Replacing the failed BatchGen runtime for model {}: {}", spec.modelPath(),
          rt.runtime().failure().toString());
      runtimes.remove(spec);
      running = List.copyOf(runtimes.values());
      if (users.getOrDefault(rt, 0) == 0) {
        users.remove(rt);
        rt.close();
      } else {
        retired.add(rt);
      }
      rt = null;
    }
    if (rt == null) {
      closeIdle();
      ModelBundle bundle = bundles.get(key(spec));
      if (bundle == null) {
        bundle = ModelBundle.load(spec.modelPath());
        bundles.put(key(spec), bundle);
      }
      rt = ModelRuntime.start(spec, bundle, spec.threads() > 0 ? spec.threads() : cores,
          runtimeConfig(spec));
      runtimes.put(spec, rt);
      running = List.copyOf(runtimes.values());
      started.incrementAndGet();
    }
    users.merge(rt, 1, Integer::sum);
    return rt;
  }

  /** A task is done with {@code rt}; it stays open for the next task of the same spec. */
  public synchronized void release(ModelRuntime rt) {
    Integer n = users.get(rt);
    if (n == null) {
      return;
    }
    if (n > 1) {
      users.put(rt, n - 1);
      return;
    }
    users.remove(rt);
    if (retired.remove(rt)) {
      rt.close(); // replaced after a failure, and now unused
    }
  }

  private static Path key(EngineSpec spec) {
    return Path.of(spec.modelPath()).toAbsolutePath().normalize();
  }

  /** Closes the runtimes no task uses, then the models no runtime uses. */
  private void closeIdle() {
    runtimes.values().removeIf(idle -> {
      if (users.getOrDefault(idle, 0) == 0) {
        idle.close();
        return true;
      }
      return false;
    });
    running = List.copyOf(runtimes.values());
    bundles.values().removeIf(b -> {
      boolean used = runtimes.values().stream().anyMatch(r -> r.bundle() == b)
          || retired.stream().anyMatch(r -> r.bundle() == b);
      if (!used) {
        b.close();
      }
      return !used;
    });
  }

  /**
   * The runtime configuration of {@code spec} here: an automatic KV cache budget (0) is a quarter
   * of the executor's max heap, since CPU backends keep the KV cache on the heap.
   */
  RuntimeConfig runtimeConfig(EngineSpec spec) {
    RuntimeConfig defaults = RuntimeConfig.defaults();
    long heapQuarter = maxHeapBytes / 4;
    long kv = spec.kvCacheBytes() > 0 ? spec.kvCacheBytes()
        : Math.max(MIN_AUTO_KV_BYTES, heapQuarter);
    return defaults.withMode(spec.schedulingMode())
        .withKv(defaults.kvBlockSize(), kv, Math.max(kv, heapQuarter))
        .withMaxRunningSequences(spec.maxRunningSequences()).withKvOffload(spec.kvOffload());
  }

  /** Which task owns each sequence (results of migrated sequences come back through it). */
  public TaskRoutes routes() {
    return routes;
  }

  /** The running runtime of {@code spec}, or null when this executor runs none. */
  public ModelRuntime find(EngineSpec spec) {
    for (ModelRuntime rt : running) {
      if (rt.spec().equals(spec)) {
        return rt;
      }
    }
    return null;
  }

  /** The runtimes running now (for load reports). */
  public List<ModelRuntime> runtimes() {
    return running;
  }

  /** Runtimes started by this executor so far (tests, logs). */
  public long started() {
    return started.get();
  }

  /** The executor's load, summed over its runtimes. */
  public Load load() {
    int queued = 0;
    int active = 0;
    long generated = 0;
    long positionsLeft = 0;
    long newTokensBound = 0;
    for (ModelRuntime rt : running) {
      RuntimeMetrics m = rt.runtime().metrics();
      queued += m.queued();
      active += m.running() + m.parked();
      generated += m.generatedTokens();
      positionsLeft += m.positionsLeft();
      newTokensBound += m.newTokensBound();
    }
    return new Load(queued, active, generated, positionsLeft, newTokensBound);
  }

  /**
   * What an executor reports: sequences queued and active (holding KV or parked), tokens generated
   * by its running runtimes, and the work its live sequences may still need.
   */
  public record Load(int queuedSequences, int activeSequences, long tokensGenerated,
      long positionsLeft, long newTokensBound) {
  }

  /** Closes every runtime (cancelling unfinished sequences) and every model. Idempotent. */
  @Override
  public synchronized void close() {
    closed = true;
    List<ModelRuntime> all = new ArrayList<>(runtimes.values());
    all.addAll(retired);
    for (ModelRuntime rt : all) {
      rt.close();
    }
    runtimes.clear();
    running = List.of();
    retired.clear();
    users.clear();
    for (ModelBundle b : bundles.values()) {
      b.close();
    }
    bundles.clear();
  }
}
