package io.batchgen.io;

/**
 * A sink for results, written one row at a time as sequences finish. Implementations buffer at
 * most one batch (Arrow) or one row group (Parquet), never a whole partition.
 *
 * <p>Lifecycle: created by the task that owns the rows; {@link #write} for each finished
 * sequence, in any order; {@link #close} once at the end, which flushes what is buffered. Called
 * from one thread at a time. After a throw the output is incomplete: the caller aborts the task
 * (Spark's commit protocol then discards it) rather than keep writing.
 */
public interface ResultWriter extends AutoCloseable {

  /** Buffers one result; may flush a full batch or row group downstream. */
  void write(GenerationResult result);

  /** Results written so far. */
  long rowsWritten();

  /** Flushes what is buffered and releases the resources. */
  @Override
  void close();
}
