package io.batchgen.spark.sql;

import java.io.Serializable;

/**
 * Rows {@code [rowStart, rowEnd)} of one prompt file, with their estimated cost in tokens
 * (prompt plus expected output): the unit the source plans partitions from.
 */
record PromptSlice(String file, long rowStart, long rowEnd, double cost) implements Serializable {
}
