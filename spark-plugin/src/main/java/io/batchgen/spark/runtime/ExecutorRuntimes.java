package io.batchgen.spark.runtime;

import io.batchgen.core.runtime.RuntimeConfig;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.spark.SparkEnv;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The runtimes of this JVM, one per {@link EngineSpec}: the first task that asks for a spec loads
 * the model; every later task on the executor, concurrent or not, shares that runtime, so their
 * sequences batch together. Closed when the executor shuts down (plugin shutdown). A runtime
 * that failed is replaced by a fresh one for the next task (the tasks that used it fail and
 * Spark retries them).
 */
public final class ExecutorRuntimes {
  private static final Logger LOG = LoggerFactory.getLogger(ExecutorRuntimes.class);
  private static final Map<EngineSpec, ModelRuntime> RUNTIMES = new HashMap<>();
  private static final Map<ModelRuntime, Integer> USERS = new HashMap<>();
  private static final AtomicLong STARTED = new AtomicLong();
  /** Max new tokens of every sequence tasks have submitted and not yet received back. */
  private static final AtomicLong PENDING_BUDGET = new AtomicLong();
  /** Tokens of the sequences tasks have received back. */
  private static final AtomicLong DELIVERED_TOKENS = new AtomicLong();

  private ExecutorRuntimes() {
  }

  /**
   * The runtime for {@code spec}, started on first use (blocking other callers meanwhile); the
   * caller must {@link #release} it when done. Starting a runtime for a new spec first closes
   * the runtimes no task is using, so an executor holds one model's weights and KV cache at a
   * time unless tasks of several specs really run at once.
   */
  public static synchronized ModelRuntime acquire(EngineSpec spec) {
    ModelRuntime rt = RUNTIMES.get(spec);
    if (rt != null && rt.runtime().failure() != null) {
      // A failed runtime is never handed out again; its last user closes it (see release).
      LOG.warn("Replacing the failed BatchGen runtime for model {}: {}", spec.modelPath(),
          rt.runtime().failure().toString());
      RUNTIMES.remove(spec);
      if (USERS.getOrDefault(rt, 0) == 0) {
        USERS.remove(rt);
        rt.close();
      }
      rt = null;
    }
    if (rt == null) {
      RUNTIMES.values().removeIf(idle -> {
        if (USERS.getOrDefault(idle, 0) == 0) {
          idle.close();
          return true;
        }
        return false;
      });
      rt = ModelRuntime.start(spec, resolveThreads(spec.threads()), runtimeConfig(spec));
      RUNTIMES.put(spec, rt);
      STARTED.incrementAndGet();
    }
    USERS.merge(rt, 1, Integer::sum);
    return rt;
  }

  /** A task is done with {@code rt}; it stays open for the next task of the same spec. */
  public static synchronized void release(ModelRuntime rt) {
    Integer users = USERS.get(rt);
    if (users == null) {
      return;
    }
    if (users > 1) {
      USERS.put(rt, users - 1);
    } else {
      USERS.remove(rt);
      if (!RUNTIMES.containsValue(rt)) {
        rt.close(); // replaced after a failure, and now unused
      }
    }
  }

  /** Runtimes started in this JVM so far (tests, logs). */
  public static long started() {
    return STARTED.get();
  }

  /** Sequences waiting for admission, summed over this JVM's runtimes. */
  public static synchronized int queuedSequences() {
    return RUNTIMES.values().stream().mapToInt(r -> r.runtime().metrics().queued()).sum();
  }

  /** Sequences holding KV or parked, summed over this JVM's runtimes. */
  public static synchronized int activeSequences() {
    return RUNTIMES.values().stream()
        .mapToInt(r -> r.runtime().metrics().running() + r.runtime().metrics().parked()).sum();
  }

  /** Tokens generated since each runtime started, summed over this JVM's runtimes. */
  public static synchronized long tokensGenerated() {
    return RUNTIMES.values().stream().mapToLong(r -> r.runtime().metrics().generatedTokens())
        .sum();
  }

  /** A task submitted a sequence that may generate up to {@code maxNewTokens}. */
  public static void onSubmitted(int maxNewTokens) {
    PENDING_BUDGET.addAndGet(maxNewTokens);
  }

  /** A task received the result of a sequence submitted with {@code maxNewTokens}. */
  public static void onDelivered(int maxNewTokens, int generated) {
    PENDING_BUDGET.addAndGet(-maxNewTokens);
    DELIVERED_TOKENS.addAndGet(generated);
  }

  /**
   * Upper bound on the tokens still to come for accepted sequences: their budget less what the
   * runtimes generated for them so far.
   */
  public static long tokensRemaining() {
    long inFlightGenerated = Math.max(0, tokensGenerated() - DELIVERED_TOKENS.get());
    return Math.max(0, PENDING_BUDGET.get() - inFlightGenerated);
  }

  /** How many runtimes this JVM hosts (tests, metrics). */
  public static synchronized int count() {
    return RUNTIMES.size();
  }

  /** Closes every runtime; later {@link #acquire} calls start fresh ones. */
  public static synchronized void closeAll() {
    java.util.Set<ModelRuntime> all = new java.util.HashSet<>(RUNTIMES.values());
    all.addAll(USERS.keySet());
    for (ModelRuntime rt : all) {
      rt.close();
    }
    RUNTIMES.clear();
    USERS.clear();
    PENDING_BUDGET.set(0);
    DELIVERED_TOKENS.set(0);
  }

  private static final long MIN_AUTO_KV_BYTES = 64L << 20;

  /**
   * The runtime configuration for {@code spec} on this executor: an automatic KV cache budget
   * (0) is a quarter of the JVM's max heap, since CPU backends keep the KV cache on the heap.
   */
  static RuntimeConfig runtimeConfig(EngineSpec spec) {
    RuntimeConfig defaults = RuntimeConfig.defaults();
    long heapQuarter = Runtime.getRuntime().maxMemory() / 4;
    long kv = spec.kvCacheBytes() > 0 ? spec.kvCacheBytes()
        : Math.max(MIN_AUTO_KV_BYTES, heapQuarter);
    return defaults.withMode(spec.schedulingMode())
        .withKv(defaults.kvBlockSize(), kv, Math.max(kv, heapQuarter))
        .withMaxRunningSequences(spec.maxRunningSequences());
  }

  /** 0 means the executor's cores: spark.executor.cores when set, else the machine's. */
  static int resolveThreads(int requested) {
    if (requested > 0) {
      return requested;
    }
    int machine = Runtime.getRuntime().availableProcessors();
    SparkEnv env = SparkEnv.get();
    if (env != null && env.conf().contains("spark.executor.cores")
        && !"driver".equals(env.executorId())) {
      return Math.max(1, Math.min(machine, env.conf().getInt("spark.executor.cores", machine)));
    }
    return machine;
  }
}
