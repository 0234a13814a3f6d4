package io.batchgen.core.runtime;

/**
 * In which order sequences waiting for KV are admitted to run. Only admission changes: once a
 * sequence holds KV, steps and preemption go by age in either order (an older sequence may take
 * blocks from a younger one, never the reverse), and what a sequence generates never depends on
 * when it ran.
 */
public enum AdmissionOrder {
  /**
   * First come, first served (the default: rows finish roughly in the order they came, which the
   * progress ETA's throughput, measured on finished rows, relies on).
   */
  ARRIVAL,
  /**
   * The largest generation budget left first ({@code max_new_tokens} less what the sequence
   * generated), ties first come, first served. When rows carry different {@code max_new_tokens},
   * the longest ones start first and the short ones fill the batch at the end, so a batch job
   * does not wait at its end for a long row admitted late, running its steps in a batch that has
   * emptied (longest processing time first, the classic rule for finishing a set of jobs
   * early). With one {@code max_new_tokens} for every row it is the same as {@link #ARRIVAL}.
   * Not the default: long rows finish last, so the throughput of finished rows that the
   * progress ETA divides by runs low for most of the job (in three {@code bench progress} runs
   * the ETA at a quarter of the run read 24-105% high, against 20-33% first come, first
   * served in the same hour).
   */
  LONGEST_FIRST
}
