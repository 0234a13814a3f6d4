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
 * @param kvCacheBytes        KV cache budget of the runtime
 * @param maxRunningSequences sequences holding KV at once
 */
public record EngineSpec(String modelPath, String backend, int threads, String schedulingMode,
    long kvCacheBytes, int maxRunningSequences) implements Serializable {

  /** The runtime configuration this spec asks for. */
  public RuntimeConfig runtimeConfig() {
    RuntimeConfig defaults = RuntimeConfig.defaults();
    return defaults
        .withMode(schedulingMode.equals("lockstep") ? SchedulingMode.LOCK_STEP
            : SchedulingMode.COROUTINE)
        .withKv(defaults.kvBlockSize(), kvCacheBytes, defaults.hostKvBudgetBytes())
        .withMaxRunningSequences(maxRunningSequences);
  }
}
