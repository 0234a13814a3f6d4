package io.batchgen.spark.sql;

/** How the sink deals rows to write tasks (option {@code writePartitioning}). */
public enum WritePartitioning {
  /** By a hash of the id: an even spread of rows over the tasks, whatever the input's order. */
  HASH,
  /**
   * Contiguous id ranges of about equal size (Spark samples the ids for the bounds): neighbouring
   * rows share a task, as when an ordered table is split.
   */
  RANGE
}
