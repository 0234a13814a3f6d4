package io.batchgen.spark.sql;

import java.io.Serializable;

/**
 * Rows {@code [rowStart, rowEnd)} of one prompt file, with their estimated cost in tokens
 * (prompt plus expected output): the unit the source plans partitions from. For an OpenAI batch
 * (JSONL) file rows are lines and {@code byteOffset} is where line {@code rowStart} begins;
 * -1 for Parquet.
 */
record PromptSlice(String file, long rowStart, long rowEnd, double cost, long byteOffset)
    implements Serializable {

  /** A slice of a Parquet file. */
  PromptSlice(String file, long rowStart, long rowEnd, double cost) {
    this(file, rowStart, rowEnd, cost, -1);
  }

  /** Whether the slice is lines of a JSONL file. */
  boolean lines() {
    return byteOffset >= 0;
  }
}
