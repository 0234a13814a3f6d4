package io.batchgen.core.runtime;

/** Where a sequence coroutine is in its life, in order. */
public enum SequenceStatus {
  /** Submitted, not yet holding KV memory (also: preempted for recompute). */
  QUEUED,
  /** Processing its prompt (or recomputing its KV) in chunks. */
  PREFILL,
  /** Generating one token per step. */
  DECODE,
  /** Preempted with its KV copied to the host tier; resumes when memory frees up. */
  PARKED,
  /** Done; see its {@link FinishReason}. */
  FINISHED
}
