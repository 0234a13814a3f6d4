package io.batchgen.spark.runtime;

import io.batchgen.core.runtime.RuntimeConfig;
import io.batchgen.core.runtime.SchedulingMode;
import java.io.Serializable;

/**
 * What an executor runtime is built from: resolved on the driver, shipped with each task, and
 * used as the key under which an executor shares one runtime between all its tasks.
 *
 * @param modelPath           model directory or GGUF file, as seen from executors
 * @param backend             reference, cpu or auto
 * @param threads             compute threads; 0 means the executor's cores
 * @param schedulingMode      coroutine or lockstep
 * @param kvCacheBytes        KV cache budget of the runtime; 0 means a quarter of the JVM's max
 *                            heap (CPU backends keep the KV cache on the heap)
 * @param maxRunningSequences sequences holding KV at once
 */
public record EngineSpec(String modelPath, String backend, int threads, String schedulingMode,
    long kvCacheBytes, int maxRunningSequences) implements Serializable {
  private static final long MIN_AUTO_KV_BYTES = 64L << 20;

  /** The runtime configuration this spec asks for. */
  public RuntimeConfig runtimeConfig() {
    RuntimeConfig defaults = RuntimeConfig.defaults();
    long kv = kvCacheBytes > 0 ? kvCacheBytes
        : Math.max(MIN_AUTO_KV_BYTES, Runtime.getRuntime().maxMemory() / 4);
    return defaults
        .withMode(schedulingMode.equals("lockstep") ? SchedulingMode.LOCK_STEP
            : SchedulingMode.COROUTINE)
        .withKv(defaults.kvBlockSize(), kv, Math.max(kv, Runtime.getRuntime().maxMemory() / 4))
        .withMaxRunningSequences(maxRunningSequences);
  }
}
