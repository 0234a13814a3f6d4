package io.batchgen.spark.runtime;

import io.batchgen.core.runtime.SchedulingMode;
import io.batchgen.engine.backend.WeightSettings;
import java.io.Serializable;

/**
 * What an executor runtime is built from: resolved on the driver, shipped with each task, and
 * used as the key under which an executor shares one runtime between all its tasks. How much
 * memory the runtime takes when {@code kvCacheBytes} is 0 is the executor's decision
 * ({@link ExecutorRuntimes}), since only the executor knows its heap or device.
 *
 * @param modelPath           model directory or GGUF file, as seen from executors
 * @param backend             a backend name ({@code reference}, {@code cpu}, {@code auto}, or a
 *                            provider's), checked on the driver
 * @param threads             compute threads; 0 means the executor's cores
 * @param schedulingMode      coroutine scheduling or the lock-step baseline
 * @param kvCacheBytes        KV cache budget of the runtime; 0 means automatic
 * @param maxRunningSequences sequences holding KV at once
 * @param kvOffload           all KV in host memory, one layer of one attention batch paged in
 * @param weightBudgetBytes   compute-ready weight budget in bytes; 0 means
 *                            {@code weightBudgetHeapFraction} of the executor's heap
 * @param weightBudgetHeapFraction the heap fraction used when {@code weightBudgetBytes} is 0
 */
public record EngineSpec(String modelPath, String backend, int threads,
    SchedulingMode schedulingMode, long kvCacheBytes, int maxRunningSequences, boolean kvOffload,
    long weightBudgetBytes, double weightBudgetHeapFraction)
    implements Serializable {

  /** A spec with KV in the device budget and the default weight budget. */
  public EngineSpec(String modelPath, String backend, int threads, SchedulingMode schedulingMode,
      long kvCacheBytes, int maxRunningSequences) {
    this(modelPath, backend, threads, schedulingMode, kvCacheBytes, maxRunningSequences, false,
        WeightSettings.defaults().budgetBytes(), WeightSettings.defaults().heapFraction());
  }

  /** The weight settings this spec asks for (module streaming). */
  public WeightSettings weights() {
    return new WeightSettings(weightBudgetBytes, weightBudgetHeapFraction,
        WeightSettings.Streaming.MODULE);
  }
}
