package io.batchgen.core.runtime;

/** How the runtime groups work into module batches. */
public enum SchedulingMode {
  /**
   * Sequence coroutines: every sequence advances on its own; each module batch gathers whatever
   * rows wait for that module, chosen by the {@link SchedulingPolicy}.
   */
  COROUTINE,
  /**
   * vLLM-style continuous batching, the baseline: all running sequences advance one step (a decode
   * token or a prefill chunk) through the whole model together; new sequences join between steps.
   */
  LOCK_STEP
}
