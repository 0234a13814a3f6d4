package io.batchgen.core.runtime;

/** What to do with a sequence whose KV blocks are taken back when the pool is full. */
public enum PreemptionMode {
  /** Park or recompute, whichever the measured costs say is cheaper. */
  AUTO,
  /** Always copy its KV to the host tier (recompute only when the host tier is full). */
  PARK,
  /** Always drop its KV and recompute it from its tokens when resumed. */
  RECOMPUTE
}
